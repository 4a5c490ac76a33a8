//! Variable substitution and word splitting as docker's builder does it (its `shell`
//! lexer): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}` (and `-`/`+` without the
//! colon), single quotes keep everything literal, double quotes keep spaces, the escape
//! character escapes the next one. Quotes are removed from the result.

/// Looks variables up (build args in scope, then the image's ENV).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Splits `text` into words, substituting variables; quotes group words.
pub fn words(text: &str, vars: Lookup<'_>, escape: char) -> Vec<String> {
    lex(text, vars, escape, true)
}

/// `text` substituted as one word (whitespace kept), quotes removed.
pub fn word(text: &str, vars: Lookup<'_>, escape: char) -> String {
    lex(text, vars, escape, false).concat()
}

fn lex(text: &str, vars: Lookup<'_>, escape: char, split: bool) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has_word = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c == escape => {
                if let Some(&next) = chars.get(i + 1) {
                    cur.push(next);
                    i += 1;
                } else {
                    cur.push(c);
                }
                has_word = true;
            }
            '\'' => {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    cur.push(chars[i]);
                    i += 1;
                }
                has_word = true;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == escape && i + 1 < chars.len() {
                        // Inside double quotes only the quote, the escape and `$` are
                        // escapable; otherwise the escape stays.
                        let next = chars[i + 1];
                        if next == '"' || next == escape || next == '$' {
                            cur.push(next);
                            i += 2;
                            continue;
                        }
                    }
                    if chars[i] == '$' {
                        i = variable(&chars, i, vars, &mut cur, escape);
                        continue;
                    }
                    cur.push(chars[i]);
                    i += 1;
                }
                has_word = true;
            }
            '$' => {
                i = variable(&chars, i, vars, &mut cur, escape);
                has_word = true;
                continue;
            }
            c if split && c.is_whitespace() => {
                if has_word {
                    out.push(std::mem::take(&mut cur));
                    has_word = false;
                }
            }
            c => {
                cur.push(c);
                has_word = true;
            }
        }
        i += 1;
    }
    if has_word || (!split && !cur.is_empty()) {
        out.push(cur);
    }
    out
}

/// Substitutes the variable starting at `chars[i] == '$'`; the index after it.
fn variable(chars: &[char], i: usize, vars: Lookup<'_>, out: &mut String, escape: char) -> usize {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    match chars.get(i + 1) {
        Some('{') => {
            let Some(close) = closing_brace(chars, i + 2) else {
                out.push('$');
                return i + 1;
            };
            let inner: String = chars[i + 2..close].iter().collect();
            let name_end = inner.find(|c: char| !is_name(c)).unwrap_or(inner.len());
            let (name, modifier) = inner.split_at(name_end);
            let value = vars(name);
            let (colon, rest) = match modifier.strip_prefix(':') {
                Some(rest) => (true, rest),
                None => (false, modifier),
            };
            let set = match &value {
                Some(v) => !(colon && v.is_empty()),
                None => false,
            };
            let expand = |text: &str| word(text, vars, escape);
            let result = match rest.chars().next() {
                Some('-') if !set => expand(&rest[1..]),
                Some('+') if set => expand(&rest[1..]),
                Some('+') => String::new(),
                _ => value.unwrap_or_default(),
            };
            out.push_str(&result);
            close + 1
        }
        Some(&c) if is_name(c) => {
            let mut end = i + 1;
            while end < chars.len() && is_name(chars[end]) {
                end += 1;
            }
            let name: String = chars[i + 1..end].iter().collect();
            out.push_str(&vars(&name).unwrap_or_default());
            end
        }
        _ => {
            out.push('$');
            i + 1
        }
    }
}

fn closing_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, &c) in chars.iter().enumerate().skip(from) {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(j),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `KEY=value KEY2="a b"` pairs (ENV, LABEL, ARG), or the legacy `KEY value words`.
pub fn pairs(text: &str, vars: Lookup<'_>, escape: char) -> Vec<(String, Option<String>)> {
    let first = text.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let rest = text[first.len()..].trim();
        let key = word(first, vars, escape);
        if rest.is_empty() {
            return vec![(key, None)];
        }
        return vec![(key, Some(word(rest, vars, escape)))];
    }
    words(text, vars, escape)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "A" => Some("apple".into()),
            "E" => Some(String::new()),
            "S" => Some("two words".into()),
            _ => None,
        }
    }

    #[test]
    fn substitution_forms() {
        let cases = [
            ("$A", "apple"),
            ("${A}x", "applex"),
            ("${B:-def}", "def"),
            ("${E:-def}", "def"),
            ("${E-def}", ""),
            ("${A:-def}", "apple"),
            ("${A:+alt}", "alt"),
            ("${B:+alt}", ""),
            ("'$A'", "$A"),
            ("\"$A b\"", "apple b"),
            ("\\$A", "$A"),
            ("a$", "a$"),
            ("$B-", "-"),
        ];
        for (text, want) in cases {
            assert_eq!(word(text, &vars, '\\'), want, "{text}");
        }
    }

    #[test]
    fn splitting_and_pairs() {
        // A substituted value is not split again.
        assert_eq!(
            words("a \"b c\" $S", &vars, '\\'),
            ["a", "b c", "two words"]
        );
        assert_eq!(
            pairs("K=$A L=\"x y\" M", &vars, '\\'),
            [
                ("K".into(), Some("apple".into())),
                ("L".into(), Some("x y".into())),
                ("M".into(), None)
            ]
        );
        assert_eq!(
            pairs("K value with $A", &vars, '\\'),
            [("K".into(), Some("value with apple".into()))]
        );
    }
}
