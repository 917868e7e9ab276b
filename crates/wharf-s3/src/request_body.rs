//! Every request body the listeners hand on (to S3 and to the edge) has two deadlines, so a
//! client can hold a connection, a task and a staging file only as long as it keeps sending:
//!
//! - **idle**: no byte for [`BodyDeadlines::idle`] fails the body;
//! - **rate**: after a grace period, the body must have averaged at least
//!   [`BodyDeadlines::min_bytes_per_sec`] since it started (Apache's `mod_reqtimeout` default,
//!   `body=20,MinRate=500`): a body that trickles a byte a minute is cut, at a deadline that
//!   grows with its size, while any real upload, however large, passes.
//!
//! Failing the body fails the request with S3's `RequestTimeout` (the operation sees
//! [`BodyTimedOut`] as the stream's error); nothing partial is kept.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame};
use tokio::time::{Instant, Sleep};

/// How long and how slowly a body may take.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadlines {
    pub idle: Duration,
    pub grace: Duration,
    pub min_bytes_per_sec: u64,
}

impl Default for BodyDeadlines {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(60),
            grace: Duration::from_secs(20),
            min_bytes_per_sec: 500,
        }
    }
}

/// The body was cut for being idle or too slow.
#[derive(Debug, thiserror::Error)]
pub enum BodyTimedOut {
    #[error("request body timed out: nothing received for {0:?}")]
    Idle(Duration),
    #[error("request body timed out: {received} bytes in {elapsed:?}, below {min} bytes/s")]
    TooSlow {
        received: u64,
        elapsed: Duration,
        min: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    TimedOut(#[from] BodyTimedOut),
    #[error("{0}")]
    Inner(Box<dyn std::error::Error + Send + Sync>),
}

/// A request body with [`BodyDeadlines`].
pub struct RequestBody<B> {
    inner: B,
    limits: BodyDeadlines,
    started: Instant,
    received: u64,
    /// Fires at the earlier of the idle deadline and the rate deadline. Made the first time
    /// the body has to wait: a request without a body (most of them) never needs one.
    timer: Option<Pin<Box<Sleep>>>,
    /// Set once the body has been read to its end (see [`RequestBody::watched`]).
    ended: Option<BodyEnd>,
}

/// Whether a request's body was read to its end. A response sent before that (an error
/// refused before the upload was read) leaves the body's bytes on the connection, or on their
/// way (a client that sent `Expect: 100-continue` may send them anyway): the connection must
/// then close after the response, or those bytes would be read as the start of the next
/// request (found as `SignatureDoesNotMatch` on the request after a refused upload: its
/// method read as `xPUT`).
#[derive(Debug, Clone, Default)]
pub struct BodyEnd(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl BodyEnd {
    pub fn reached(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }

    fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Release);
    }
}

impl<B> RequestBody<B> {
    pub fn new(inner: B, limits: BodyDeadlines) -> Self {
        Self {
            inner,
            limits,
            started: Instant::now(),
            received: 0,
            timer: None,
            ended: None,
        }
    }

    /// The body, and what tells whether it was read to its end.
    pub fn watched(inner: B, limits: BodyDeadlines) -> (Self, BodyEnd) {
        let end = BodyEnd::default();
        let mut body = Self::new(inner, limits);
        body.ended = Some(end.clone());
        (body, end)
    }

    /// When the rate rule fails if nothing more arrives: the grace period plus the time the
    /// bytes received so far buy at the minimum rate.
    fn rate_deadline(&self) -> Instant {
        let rate = self.limits.min_bytes_per_sec.max(1);
        let bought = Duration::from_secs_f64(self.received as f64 / rate as f64);
        self.started + self.limits.grace + bought
    }

    fn next_deadline(&self, now: Instant) -> Instant {
        (now + self.limits.idle).min(self.rate_deadline())
    }

    fn timed_out(&self, now: Instant) -> BodyTimedOut {
        if now >= self.rate_deadline() {
            BodyTimedOut::TooSlow {
                received: self.received,
                elapsed: now - self.started,
                min: self.limits.min_bytes_per_sec,
            }
        } else {
            BodyTimedOut::Idle(self.limits.idle)
        }
    }
}

impl<B> HttpBody for RequestBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(Ok(f)) = &frame
                    && let Some(data) = f.data_ref()
                {
                    this.received += data.len() as u64;
                }
                // Read to its end: the stream says so, or its last frame arrived.
                if (frame.is_none() || this.inner.is_end_stream())
                    && let Some(end) = &this.ended
                {
                    end.set();
                }
                if this.timer.is_some() {
                    let next = this.next_deadline(Instant::now());
                    if let Some(timer) = this.timer.as_mut() {
                        timer.as_mut().reset(next);
                    }
                }
                Poll::Ready(frame.map(|f| f.map_err(|e| BodyError::Inner(e.into()))))
            }
            Poll::Pending => {
                if this.timer.is_none() {
                    let next = this.next_deadline(Instant::now());
                    this.timer = Some(Box::pin(tokio::time::sleep_until(next)));
                }
                let Some(timer) = this.timer.as_mut() else {
                    return Poll::Pending;
                };
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        let err = this.timed_out(Instant::now());
                        Poll::Ready(Some(Err(err.into())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether an error from a request body stream is [`BodyTimedOut`], however it was boxed.
pub fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        if let Some(BodyError::TimedOut(_)) = err.downcast_ref::<BodyError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body that sends `n` one-byte frames, `every` apart.
    fn trickle(
        n: usize,
        every: Duration,
    ) -> impl HttpBody<Data = Bytes, Error = std::io::Error> + Unpin {
        let s = futures::stream::unfold(0, move |i| async move {
            if i == n {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((Ok(Frame::data(Bytes::from_static(b"x"))), i + 1))
        });
        http_body_util::StreamBody::new(Box::pin(s))
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_is_cut_by_the_rate_rule() {
        let limits = BodyDeadlines::default();
        // A byte every 30 s never trips the idle timeout (60 s) but is far below 500 bytes/s.
        let body = RequestBody::new(trickle(100, Duration::from_secs(30)), limits);
        let err = body.collect().await.err().unwrap();
        assert!(is_timeout(&err), "{err}");
        assert!(
            matches!(err, BodyError::TimedOut(BodyTimedOut::TooSlow { .. })),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn silence_is_cut_by_the_idle_rule() {
        let limits = BodyDeadlines {
            idle: Duration::from_secs(5),
            ..Default::default()
        };
        let body = RequestBody::new(trickle(3, Duration::from_secs(6)), limits);
        let err = body.collect().await.err().unwrap();
        assert!(
            matches!(err, BodyError::TimedOut(BodyTimedOut::Idle(_))),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_body_passes_however_long() {
        // 1 KiB/s for 5 minutes: above the minimum rate all along.
        let s = futures::stream::unfold(0, |i| async move {
            (i < 300).then_some(())?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            Some((
                Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![0u8; 1024]))),
                i + 1,
            ))
        });
        let body = RequestBody::new(
            http_body_util::StreamBody::new(Box::pin(s)),
            BodyDeadlines::default(),
        );
        let all = body.collect().await.unwrap().to_bytes();
        assert_eq!(all.len(), 300 * 1024);
    }
}
