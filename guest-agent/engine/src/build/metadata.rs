//! The instructions that change only the image config: ENV, LABEL, EXPOSE, VOLUME, USER,
//! WORKDIR (its directory is created by the executor), CMD, ENTRYPOINT, STOPSIGNAL, SHELL,
//! MAINTAINER. Also what `docker commit --change` applies.

use std::collections::HashMap;

use oci_spec::image::Config;

use super::dockerfile::{Args, Instruction};
use super::words::{self, Lookup};
use super::BuildError;

/// Config-affecting state that the OCI config does not carry.
#[derive(Debug, Clone)]
pub struct Extra {
    /// SHELL: what the shell forms run under.
    pub shell: Vec<String>,
    /// Whether this stage set CMD (ENTRYPOINT clears an inherited CMD only).
    pub cmd_set: bool,
    pub maintainer: Option<String>,
}

impl Default for Extra {
    fn default() -> Self {
        Extra {
            shell: vec!["/bin/sh".into(), "-c".into()],
            cmd_set: false,
            maintainer: None,
        }
    }
}

/// Applies `instruction` to `config`; false when it is not a metadata instruction.
pub fn apply(
    config: &mut Config,
    extra: &mut Extra,
    instruction: &Instruction,
    vars: Lookup<'_>,
    escape: char,
) -> Result<bool, BuildError> {
    let text = match &instruction.args {
        Args::Shell(s) => s.clone(),
        Args::Json(_) => String::new(),
    };
    let keyword = instruction.keyword.as_str();
    match keyword {
        "ENV" => {
            let mut env = config.env().clone().unwrap_or_default();
            for (key, value) in words::pairs(&text, vars, escape) {
                let Some(value) = value else {
                    return Err(BuildError::Step(format!(
                        "ENV names can not be blank or need a value: {key}"
                    )));
                };
                let entry = format!("{key}={value}");
                match env
                    .iter_mut()
                    .find(|e| e.split_once('=').map(|(k, _)| k) == Some(&key))
                {
                    Some(existing) => *existing = entry,
                    None => env.push(entry),
                }
            }
            config.set_env(Some(env));
        }
        "LABEL" => {
            let mut labels: HashMap<String, String> = config.labels().clone().unwrap_or_default();
            for (key, value) in words::pairs(&text, vars, escape) {
                labels.insert(key, value.unwrap_or_default());
            }
            config.set_labels(Some(labels));
        }
        "MAINTAINER" => {
            extra.maintainer = Some(words::word(&text, vars, escape));
        }
        "EXPOSE" => {
            let mut ports = config.exposed_ports().clone().unwrap_or_default();
            for port in words::words(&text, vars, escape) {
                let port = if port.contains('/') {
                    port
                } else {
                    format!("{port}/tcp")
                };
                if !ports.contains(&port) {
                    ports.push(port);
                }
            }
            config.set_exposed_ports(Some(ports));
        }
        "VOLUME" => {
            let list = match &instruction.args {
                Args::Json(list) => list.clone(),
                Args::Shell(s) => words::words(s, vars, escape),
            };
            let mut volumes = config.volumes().clone().unwrap_or_default();
            for volume in list {
                if volume.trim().is_empty() {
                    return Err(BuildError::Step(
                        "VOLUME specified can not be an empty string".into(),
                    ));
                }
                if !volumes.contains(&volume) {
                    volumes.push(volume);
                }
            }
            config.set_volumes(Some(volumes));
        }
        "USER" => {
            config.set_user(Some(words::word(&text, vars, escape)));
        }
        "WORKDIR" => {
            let dir = words::word(&text, vars, escape);
            let base = config.working_dir().clone().unwrap_or_else(|| "/".into());
            config.set_working_dir(Some(join_dir(&base, &dir)));
        }
        "STOPSIGNAL" => {
            config.set_stop_signal(Some(words::word(&text, vars, escape)));
        }
        "CMD" => {
            config.set_cmd(Some(command(&instruction.args, &extra.shell)));
            extra.cmd_set = true;
        }
        "ENTRYPOINT" => {
            let entrypoint = command(&instruction.args, &extra.shell);
            config.set_entrypoint((!entrypoint.is_empty()).then_some(entrypoint));
            if !extra.cmd_set {
                config.set_cmd(None);
            }
        }
        "SHELL" => match &instruction.args {
            Args::Json(list) if !list.is_empty() => extra.shell = list.clone(),
            _ => {
                return Err(BuildError::Step(
                    "SHELL requires the arguments to be in JSON form".into(),
                ))
            }
        },
        // Accepted and not kept: the OCI config has no place for them.
        "HEALTHCHECK" | "ONBUILD" => {}
        _ => return Ok(false),
    }
    Ok(true)
}

/// The shell form runs under the shell; the JSON form as is. An empty shell form is empty.
pub fn command(args: &Args, shell: &[String]) -> Vec<String> {
    match args {
        Args::Json(list) => list.clone(),
        Args::Shell(s) if s.is_empty() => Vec::new(),
        Args::Shell(s) => shell.iter().cloned().chain([s.clone()]).collect(),
    }
}

/// `dir` taken relative to `base` unless absolute, cleaned (`..` clamped at the root).
pub fn join_dir(base: &str, dir: &str) -> String {
    let joined = if dir.starts_with('/') {
        dir.to_string()
    } else {
        format!("{base}/{dir}")
    };
    let cleaned = berth_runtime::rootfs::safe_path::clean(std::path::Path::new(&joined));
    format!("/{}", cleaned.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::dockerfile::parse;

    #[test]
    fn metadata_instructions_change_the_config() {
        let (list, escape) = parse(
            "FROM x\nENV A=1 B=\"two words\"\nENV A 3\nLABEL l=v\nEXPOSE 80 53/udp\nWORKDIR /app\nWORKDIR sub/../x\nUSER nobody\nCMD echo hi\nENTRYPOINT [\"/e\"]\n",
        )
        .unwrap();
        let mut config = Config::default();
        let mut extra = Extra::default();
        let none = |_: &str| None;
        for i in &list[1..] {
            assert!(apply(&mut config, &mut extra, i, &none, escape).unwrap());
        }
        assert_eq!(config.env().clone().unwrap(), ["A=3", "B=two words"]);
        assert_eq!(config.working_dir().as_deref(), Some("/app/x"));
        assert_eq!(config.user().as_deref(), Some("nobody"));
        assert_eq!(config.cmd().clone().unwrap(), ["/bin/sh", "-c", "echo hi"]);
        assert_eq!(config.entrypoint().clone().unwrap(), ["/e"]);
        assert_eq!(
            config.exposed_ports().clone().unwrap(),
            ["80/tcp", "53/udp"]
        );
        assert_eq!(config.labels().clone().unwrap()["l"], "v");
    }
}
