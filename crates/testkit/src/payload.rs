//! A payload that reports what it sees from inside a container: it runs each command
//! with sh and prints its output under a `=== name` line, which [`sections`] splits
//! again. An `echo` from inside is weaker evidence than the kernel's files read from
//! outside; a payload is for what only the inside shows (its own /proc, its mounts).

use std::collections::BTreeMap;

/// The argv of a payload that runs each `(name, command)` with sh and prints its
/// output, stderr included, under a `=== name` line. The last command is followed by
/// `true` so that sh stays PID 1 and does not exec it.
pub fn probe_args(commands: &[(&str, &str)]) -> Vec<String> {
    let mut script = String::new();
    for (name, command) in commands {
        script.push_str(&format!("echo '=== {name}'; {{ {command} ; }} 2>&1; "));
    }
    script.push_str("true");
    vec!["sh".into(), "-c".into(), script]
}

/// Splits a probe's output into its sections.
pub fn sections(output: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("=== ") {
            current = Some(name.to_string());
            map.insert(name.to_string(), String::new());
        } else if let Some(name) = &current {
            let text = map.get_mut(name).unwrap();
            text.push_str(line);
            text.push('\n');
        }
    }
    map
}
