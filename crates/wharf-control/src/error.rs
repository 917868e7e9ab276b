//! CloudFront's errors: a code, a message and the HTTP status the service model gives the code,
//! answered as `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code>…</ErrorResponse>`.

use http::StatusCode;

use crate::service_model::{XMLNS, model};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

pub type ControlResult<T> = Result<T, ControlError>;

impl ControlError {
    /// An error the model describes (`NoSuchDistribution`, `PreconditionFailed`, …), with the
    /// status the model gives it (400 for a code it does not know).
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        let status = model()
            .shapes
            .get(code)
            .and_then(|s| s.error.as_ref())
            .and_then(|e| StatusCode::from_u16(e.http_status_code).ok())
            .unwrap_or(StatusCode::BAD_REQUEST);
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn with_status(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A body that is not an XML document.
    pub fn malformed_input(message: &str) -> Self {
        Self::with_status(StatusCode::BAD_REQUEST, "MalformedInput", message)
    }

    /// An XML document that is not the operation's shape.
    pub fn malformed_xml(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::BAD_REQUEST, "MalformedXML", message)
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("InvalidArgument", message)
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", message)
    }

    pub fn not_implemented(operation: &str) -> Self {
        Self::with_status(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("Wharf does not implement the CloudFront operation {operation} yet."),
        )
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::with_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            format!("We encountered an internal error: {message}"),
        )
    }

    /// The `ErrorResponse` document.
    pub fn body(&self, request_id: &str) -> String {
        let kind = if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        format!(
            "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            quick_xml::escape::escape(self.code.as_str()),
            quick_xml::escape::escape(self.message.as_str()),
            quick_xml::escape::escape(request_id),
        )
    }
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ControlError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_come_from_the_model() {
        assert_eq!(ControlError::new("NoSuchDistribution", "").status, 404);
        assert_eq!(ControlError::new("PreconditionFailed", "").status, 412);
        assert_eq!(ControlError::new("DistributionNotDisabled", "").status, 409);
        assert_eq!(ControlError::new("CNAMEAlreadyExists", "").status, 409);
        assert_eq!(ControlError::new("InvalidIfMatchVersion", "").status, 400);
        assert_eq!(ControlError::new("AccessDenied", "").status, 403);
        let body = ControlError::new("InvalidArgument", "a < b").body("r1");
        assert!(body.contains("<Code>InvalidArgument</Code><Message>a &lt; b</Message>"));
    }
}
