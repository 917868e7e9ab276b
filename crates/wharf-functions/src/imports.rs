//! `import` statements (cloudfront-js-2.0: `import cf from 'cloudfront';`) turned into the
//! `require` calls the engine runs a function's code with, line for line, so a function is a
//! script whose `handler` is a global and error positions stay where the author wrote them.
//!
//! Handled: `import NAME from 'MOD';`, `import * as NAME from 'MOD';` and
//! `import { a, b as c } from 'MOD';`, one per line, at the start of a line.

/// The code with its `import` lines rewritten.
pub fn as_script(code: &str) -> String {
    code.split_inclusive('\n')
        .map(|line| rewrite(line).unwrap_or_else(|| line.to_owned()))
        .collect()
}

fn rewrite(line: &str) -> Option<String> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let rest = body.strip_prefix("import ")?;
    let (bindings, tail) = rest.split_once(" from ")?;
    let tail = tail.trim();
    let quote = tail.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let end = tail[1..].find(quote)? + 1;
    let module = &tail[1..end];
    let after = tail[end + 1..].trim_start_matches(';').trim();
    if !(after.is_empty() || after.starts_with("//")) {
        return None;
    }
    let bindings = bindings.trim();
    let target = if let Some(name) = bindings.strip_prefix("* as ") {
        name.trim().to_owned()
    } else if let Some(list) = bindings.strip_prefix('{').and_then(|b| b.strip_suffix('}')) {
        let names: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| match n.split_once(" as ") {
                Some((from, to)) => format!("{}: {}", from.trim(), to.trim()),
                None => n.to_owned(),
            })
            .collect();
        format!("{{ {} }}", names.join(", "))
    } else if bindings
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    {
        bindings.to_owned()
    } else {
        return None;
    };
    let newline = if line.ends_with('\n') { "\n" } else { "" };
    Some(format!(
        "{indent}const {target} = require('{module}');{newline}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_forms() {
        assert_eq!(
            as_script("import cf from 'cloudfront';\n"),
            "const cf = require('cloudfront');\n"
        );
        assert_eq!(
            as_script("import * as q from \"querystring\""),
            "const q = require('querystring');"
        );
        assert_eq!(
            as_script("  import { createHash, createHmac as mac } from 'crypto'; // hashing\nx"),
            "  const { createHash, createHmac: mac } = require('crypto');\nx"
        );
        // Not an import statement at the start of a line: left alone.
        let code = "var s = 'import x from y';\nfunction handler(e) { return e; }\n";
        assert_eq!(as_script(code), code);
    }
}
