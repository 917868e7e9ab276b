//! What `cloudfront-js-1.0` refuses of the language QuickJS takes: the `const` and `let`
//! declarations (AWS: "The const and let statements are not supported") and `async`
//! functions (ES 2017 statements, which only runtime 2.0 lists). The code is scanned as
//! JavaScript is tokenised (comments, strings, template literals and regular expression
//! literals skipped), and a word counts only where it starts a declaration, so a property
//! named `let` or a string holding `const` passes.
//!
//! The rest of ES 2015+ that 1.0 does not list (classes, destructuring, `for…of`, …) is not
//! refused: QuickJS runs it.

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Word(&'a str),
    /// A punctuator, a number, a string or a template (their contents do not matter here).
    Other(u8),
}

/// The code's tokens; `None` when a comment, string or template is not closed (QuickJS says
/// so more precisely: the scan then refuses nothing).
fn tokens(code: &str) -> Option<Vec<Token<'_>>> {
    let b = code.as_bytes();
    let mut out: Vec<Token<'_>> = Vec::new();
    // Open `${` of templates: the brace depth at which each returns to its template.
    let mut templates: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = code[i + 2..].find("*/").map(|p| i + 2 + p + 2)?;
            }
            b'/' if regex_may_start(out.last()) => {
                i = skip_regex(b, i)?;
                out.push(Token::Other(b'/'));
            }
            b'\'' | b'"' => {
                i = skip_string(b, i, c)?;
                out.push(Token::Other(c));
            }
            b'`' => {
                i = skip_template(b, i + 1, &mut templates, depth)?;
                out.push(Token::Other(b'`'));
            }
            b'{' => {
                depth += 1;
                out.push(Token::Other(c));
                i += 1;
            }
            b'}' if templates.last() == Some(&depth) => {
                // The end of a `${…}`: back in the template.
                templates.pop();
                i = skip_template(b, i + 1, &mut templates, depth)?;
                out.push(Token::Other(b'`'));
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                out.push(Token::Other(c));
                i += 1;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(Token::Word(&code[start..i]));
            }
            _ if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                out.push(Token::Other(b'0'));
            }
            _ => {
                out.push(Token::Other(c));
                i += 1;
            }
        }
    }
    Some(out)
}

/// Whether a `/` after `previous` starts a regular expression (rather than dividing).
fn regex_may_start(previous: Option<&Token<'_>>) -> bool {
    match previous {
        None => true,
        Some(Token::Word(w)) => matches!(
            *w,
            "return"
                | "typeof"
                | "instanceof"
                | "in"
                | "of"
                | "new"
                | "delete"
                | "void"
                | "throw"
                | "case"
                | "do"
                | "else"
        ),
        Some(Token::Other(c)) => !matches!(c, b')' | b']' | b'}' | b'0' | b'\'' | b'"' | b'`'),
    }
}

fn skip_string(b: &[u8], start: usize, quote: u8) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            x if x == quote => return Some(i + 1),
            b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

fn skip_regex(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    let mut class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'[' => {
                class = true;
                i += 1;
            }
            b']' => {
                class = false;
                i += 1;
            }
            b'/' if !class => {
                i += 1;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                return Some(i);
            }
            b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

/// Skips a template's text from `i` to its closing backtick, or to a `${` (whose code is then
/// scanned, returning to the template at brace depth `depth`).
fn skip_template(
    b: &[u8],
    mut i: usize,
    templates: &mut Vec<usize>,
    depth: usize,
) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'`' => return Some(i + 1),
            b'$' if b.get(i + 1) == Some(&b'{') => {
                templates.push(depth);
                return Some(i + 2);
            }
            _ => i += 1,
        }
    }
    None
}

/// `Err` names what `cloudfront-js-1.0` does not support, with its line.
pub fn check_runtime_1(code: &str) -> Result<(), String> {
    let Some(tokens) = tokens(code) else {
        return Ok(());
    };
    let starts_binding = |t: Option<&Token<'_>>| {
        matches!(
            t,
            Some(Token::Word(_)) | Some(Token::Other(b'{')) | Some(Token::Other(b'['))
        )
    };
    for (i, t) in tokens.iter().enumerate() {
        let Token::Word(w) = t else { continue };
        // `o.let`, `{const: 1}`: property names, not declarations.
        let property = i > 0 && tokens[i - 1] == Token::Other(b'.');
        let next = tokens.get(i + 1);
        if property || next == Some(&Token::Other(b':')) {
            continue;
        }
        let refused = match *w {
            "const" | "let" if starts_binding(next) => {
                format!(
                    "{w} declarations are not supported in cloudfront-js-1.0 (use var, or cloudfront-js-2.0)"
                )
            }
            "async"
                if matches!(
                    next,
                    Some(Token::Word("function")) | Some(Token::Word(_)) | Some(Token::Other(b'('))
                ) =>
            {
                "async functions are not supported in cloudfront-js-1.0 (use cloudfront-js-2.0)"
                    .to_owned()
            }
            _ => continue,
        };
        return Err(refused);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_runtime_1;

    #[test]
    fn refuses_let_const_and_async_and_nothing_else() {
        for bad in [
            "const x = 1; function handler(e) { return e.request; }",
            "function handler(e) { let r = e.request; return r; }",
            "function handler(e) { for (let i = 0; i < 2; i++) {} return e.request; }",
            "function handler(e) { const {request} = e; return request; }",
            "async function handler(e) { return e.request; }",
            "var h = async (e) => e.request;",
            "var t = `${(function () { const y = 2; return y; })()}`;",
        ] {
            assert!(check_runtime_1(bad).is_err(), "{bad}");
        }
        for good in [
            "function handler(e) { var r = e.request; return r; }",
            "// const x = 1\nfunction handler(e) { /* let y */ return e.request; }",
            "var s = 'const x = 1'; var t = \"let y\"; var u = `async ${s} const z`;",
            "var re = /const x/; var o = {let: 1, const: 2, async: 3}; o.let = o.const / 2;",
            "var a = 4 / 2 / 1; var n = a.let;",
            "var h = (e) => e.request; var x = 2 ** 3;",
            "var t = `a ${ {k: 1}.k } b`;",
        ] {
            assert_eq!(check_runtime_1(good), Ok(()), "{good}");
        }
    }
}
