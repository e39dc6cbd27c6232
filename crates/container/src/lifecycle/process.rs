//! The payload's process, as the container's init and `exec` both start it (chapter
//! 6): the program found as execvp(3) would, inside the container; its environment
//! with a `HOME`; its arguments as C strings; its security profile, adjusted for what
//! the kernel can never grant. Read execve(2), execvp(3) and capabilities(7).

use std::ffi::CString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::error::ProtocolError;
use super::init_error::InitError;
use crate::security::Profile;
use crate::spec::{Spec, SpecError};

// ANCHOR: find_program
/// `args[0]` as execvp(3) would find it, inside the container (after pivot_root): a
/// name with a `/` as is, otherwise the first executable file of that name in the
/// PATH of `process.env` (runc's default PATH when there is none). Checked before
/// `create` returns, so a missing program fails `create`, not the later `start`.
///
/// The three failures are the kernel's (execve(2)): ENOENT for a path that is not
/// there, EACCES for a directory or a file without execute permission (or on a
/// noexec mount, which access(2) sees). Their messages carry the words Docker reads
/// to choose the exit status, as runc's do: "executable file not found" and "no such
/// file or directory" with the name give 127, "permission denied" 126.
pub fn find_program(name: &str, env: &[String]) -> Result<PathBuf, InitError> {
    let executable = |path: &Path| {
        fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            && nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
    };
    if name.contains('/') {
        let path = PathBuf::from(name);
        return match fs::metadata(&path) {
            Err(_) => Err(InitError::NoSuchProgram { name: name.to_string() }),
            Ok(meta) if meta.is_dir() => Err(InitError::NotExecutable {
                name: name.to_string(),
                why: "it is a directory; give the program inside it".into(),
            }),
            Ok(_) if !executable(&path) => Err(InitError::NotExecutable {
                name: name.to_string(),
                why: "the file is not executable (no x permission, or a noexec mount); chmod +x it or run it through its interpreter".into(),
            }),
            Ok(_) => Ok(path),
        };
    }
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    path_var
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join(name))
        .find(|candidate| executable(candidate))
        .ok_or_else(|| InitError::ProgramNotFound { name: name.to_string(), path: path_var.to_string() })
}
// ANCHOR_END: find_program

/// `env` with a `HOME` when it has none, as runc sets it: the home directory of `uid`
/// in the container's /etc/passwd (this runs inside the new root), or `/`. Programs
/// (shells, git, pip) misbehave without one.
pub fn with_home(env: &[String], uid: u32) -> Vec<String> {
    let mut env = env.to_vec();
    if env.iter().any(|e| e.starts_with("HOME=")) {
        return env;
    }
    let home = fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.len() >= 6 && fields[2] == uid.to_string()).then(|| fields[5].to_string())
            })
        })
        .filter(|home| !home.is_empty())
        .unwrap_or_else(|| "/".to_string());
    env.push(format!("HOME={home}"));
    env
}

// ANCHOR: security_profile
/// The container's security profile (chapter 5), with one adjustment for runc's
/// default config.json: it lists capabilities as ambient that are not inheritable,
/// which the kernel can never raise (capabilities(7)). runc tries and ignores the
/// failure; chapter 5 refuses such a profile outright, so the unraisable ones are
/// left out here and the rest of the profile is applied unchanged.
pub fn security_profile(spec: &Spec) -> Result<Profile, SpecError> {
    let mut profile = spec.security_profile()?;
    if let Some(caps) = profile.process.capabilities.as_mut() {
        caps.ambient.retain(|name| caps.permitted.contains(name) && caps.inheritable.contains(name));
    }
    Ok(profile)
}
// ANCHOR_END: security_profile

/// `text` for execve(2), which takes no NUL byte inside.
pub fn cstring(text: &str) -> Result<CString, ProtocolError> {
    CString::new(text).map_err(|_| ProtocolError::Broken { what: format!("{text:?} holds a NUL byte") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_program_searches_path_and_takes_slashes_as_is() {
        let env = ["PATH=/nonexistent:/bin".to_string()];
        assert_eq!(find_program("sh", &env).unwrap(), PathBuf::from("/bin/sh"));
        assert_eq!(find_program("/bin/sh", &[]).unwrap(), PathBuf::from("/bin/sh"));
        let err = find_program("no-such-program", &env).unwrap_err().to_string();
        assert!(err.starts_with(
            "exec: \"no-such-program\": executable file not found in $PATH (/nonexistent:/bin)"
        ));
        // The kernel's answers, in the words Docker maps to 127 and 126.
        let missing = find_program("/no/such", &[]).unwrap_err().to_string();
        assert!(
            missing.starts_with("exec: \"/no/such\": stat /no/such: no such file or directory"),
            "{missing}"
        );
        let plain = find_program("/etc/passwd", &[]).unwrap_err().to_string();
        assert!(
            plain.starts_with("exec: \"/etc/passwd\": permission denied: the file is not executable"),
            "{plain}"
        );
        let dir = find_program("/etc", &[]).unwrap_err().to_string();
        assert!(dir.starts_with("exec: \"/etc\": permission denied: it is a directory"), "{dir}");
    }

    #[test]
    fn unraisable_ambient_capabilities_are_left_out() {
        let profile = security_profile(&Spec::runc_default()).unwrap();
        let caps = profile.process.capabilities.unwrap();
        assert!(caps.ambient.is_empty(), "runc's default has no inheritable set: {:?}", caps.ambient);
        assert_eq!(caps.bounding.len(), 3);
        let adjusted = security_profile(&Spec::runc_default()).unwrap();
        adjusted.prepare().expect("chapter 5 accepts the adjusted profile");
    }
}
