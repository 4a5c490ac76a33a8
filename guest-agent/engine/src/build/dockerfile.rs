//! Dockerfile parsing: parser directives (`# escape=`), comments, line continuations,
//! instructions with their `--flags`, and the JSON (exec) or shell form of the arguments.
//! Variables are substituted later, step by step (`words`), since ARG and ENV change them.

/// One instruction as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Upper case (`RUN`).
    pub keyword: String,
    /// `--from=x`, `--chown=1:1`, as written (before substitution).
    pub flags: Vec<String>,
    pub args: Args,
    /// The instruction on one line, continuations joined, as `Step N/M : ...` shows it.
    pub original: String,
    /// 1-based line of the instruction's first line.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    /// `["a", "b"]`.
    Json(Vec<String>),
    /// Everything after the keyword (and flags), trimmed.
    Shell(String),
}

impl Args {
    pub fn text(&self) -> String {
        match self {
            Args::Json(v) => serde_json::to_string(v).unwrap_or_default(),
            Args::Shell(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("Dockerfile parse error line {line}: unknown instruction: {word}")]
    Unknown { line: usize, word: String },
    #[error("Dockerfile parse error line {line}: {keyword} requires {what}")]
    Missing {
        line: usize,
        keyword: String,
        what: &'static str,
    },
    #[error("the Dockerfile cannot be empty")]
    Empty,
    #[error("Dockerfile parse error: {0}")]
    Other(String),
}

const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// The escape character a Dockerfile's directives choose (`\` by default).
fn escape_directive(text: &str) -> char {
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        if key == "escape" {
            if let Some(c) = value.trim().chars().next() {
                if c == '`' {
                    return '`';
                }
            }
        } else if key != "syntax" && key != "check" {
            break;
        }
    }
    '\\'
}

/// Parses a whole Dockerfile; the escape character is returned for word splitting.
pub fn parse(text: &str) -> Result<(Vec<Instruction>, char), ParseError> {
    let escape = escape_directive(text);
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        // Comments are dropped, even between continuation lines (docker does the same).
        if trimmed.starts_with('#') {
            continue;
        }
        if current.is_none() && trimmed.is_empty() {
            continue;
        }
        let (continues, body) = match line.trim_end().strip_suffix(escape) {
            Some(body) => (true, body.to_string()),
            None => (false, line.to_string()),
        };
        let entry = current.get_or_insert_with(|| (i + 1, String::new()));
        if entry.1.is_empty() {
            entry.1.push_str(body.trim_start());
        } else {
            entry.1.push_str(&body);
        }
        if !continues {
            let (line_no, joined) = current.take().expect("set above");
            out.push(instruction(line_no, &joined)?);
        }
    }
    if let Some((line_no, joined)) = current {
        out.push(instruction(line_no, &joined)?);
    }
    if out.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok((out, escape))
}

fn instruction(line: usize, text: &str) -> Result<Instruction, ParseError> {
    let text = text.trim();
    let (word, mut rest) = match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim_start()),
        None => (text, ""),
    };
    let keyword = word.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(ParseError::Unknown {
            line,
            word: word.to_string(),
        });
    }
    let mut flags = Vec::new();
    if matches!(
        keyword.as_str(),
        "FROM" | "RUN" | "ADD" | "COPY" | "HEALTHCHECK"
    ) {
        while rest.starts_with("--") {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            flags.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    let args = match json_array(rest) {
        Some(list)
            if matches!(
                keyword.as_str(),
                "RUN" | "CMD" | "ENTRYPOINT" | "ADD" | "COPY" | "SHELL" | "VOLUME"
            ) =>
        {
            Args::Json(list)
        }
        _ => Args::Shell(rest.to_string()),
    };
    if rest.is_empty() && !matches!(keyword.as_str(), "CMD" | "ENTRYPOINT") {
        return Err(ParseError::Missing {
            line,
            keyword,
            what: "at least one argument",
        });
    }
    Ok(Instruction {
        original: format!("{word} {}", text[word.len()..].trim_start())
            .trim_end()
            .to_string(),
        keyword,
        flags,
        args,
        line,
    })
}

/// `["a","b"]` as a list of strings; anything else is the shell form.
fn json_array(text: &str) -> Option<Vec<String>> {
    if !text.starts_with('[') {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// The value of `--name=value` among an instruction's flags.
pub fn flag<'a>(flags: &'a [String], name: &str) -> Option<&'a str> {
    flags.iter().find_map(|f| {
        f.strip_prefix("--")
            .and_then(|f| f.strip_prefix(name))
            .and_then(|f| f.strip_prefix('='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_forms() {
        let text = "# escape=\\\nFROM berth/hello AS base\n# comment\nRUN echo a \\\n  # inner comment\n  && echo b\n\nCMD [\"sh\", \"-c\", \"x\"]\nCOPY --chown=1:2 a b /dst/\nENTRYPOINT not [json\n";
        let (list, escape) = parse(text).unwrap();
        assert_eq!(escape, '\\');
        assert_eq!(list.len(), 5);
        assert_eq!(list[1].args, Args::Shell("echo a   && echo b".into()));
        assert_eq!(list[1].line, 4);
        assert_eq!(
            list[2].args,
            Args::Json(vec!["sh".into(), "-c".into(), "x".into()])
        );
        assert_eq!(list[3].flags, ["--chown=1:2"]);
        assert_eq!(flag(&list[3].flags, "chown"), Some("1:2"));
        assert_eq!(list[4].args, Args::Shell("not [json".into()));
        assert_eq!(list[0].original, "FROM berth/hello AS base");
    }

    #[test]
    fn escape_directive_backtick() {
        let (list, escape) = parse("# escape=`\nFROM x\nRUN a `\n b\n").unwrap();
        assert_eq!(escape, '`');
        assert_eq!(list[1].args, Args::Shell("a  b".into()));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse("FROM x\nFOO bar"),
            Err(ParseError::Unknown { line: 2, .. })
        ));
        assert!(matches!(parse("# only\n\n"), Err(ParseError::Empty)));
        assert!(matches!(
            parse("FROM x\nRUN"),
            Err(ParseError::Missing { .. })
        ));
    }
}
