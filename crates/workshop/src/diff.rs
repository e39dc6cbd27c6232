//! A unified line diff, for `cargo workshop solution N`.
//!
//! Longest common subsequence over lines, O(n·m) time and memory: plenty for the
//! few hundred lines of an exercise file. A general-purpose tool would use
//! Myers' O(ND) algorithm (the `similar` crate); this is small enough to read.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

/// One line of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// The edit script that turns `old` into `new`, line by line.
pub fn edits<'a>(old: &'a str, new: &'a str) -> Vec<Edit<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Edit::Same(a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(Edit::Removed(a[i]));
            i += 1;
        } else {
            out.push(Edit::Added(b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| Edit::Removed(l)));
    out.extend(b[j..].iter().map(|l| Edit::Added(l)));
    out
}

/// A unified diff of `old` (named `old_name`) against `new`, with `context`
/// unchanged lines around each change; empty when the texts' lines are equal.
/// Lines carry ANSI colour; print through `anstream` to drop it off a terminal.
pub fn unified(old_name: &str, new_name: &str, old: &str, new: &str, context: usize) -> String {
    let script = edits(old, new);
    let changed: Vec<usize> =
        script.iter().enumerate().filter(|(_, e)| !matches!(e, Edit::Same(_))).map(|(i, _)| i).collect();
    if changed.is_empty() {
        return String::new();
    }
    // Group changes whose context windows touch into hunks of script indexes.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &i in &changed {
        let start = i.saturating_sub(context);
        let end = (i + context + 1).min(script.len());
        match hunks.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = end,
            _ => hunks.push((start, end)),
        }
    }

    let bold = Style::new().bold();
    let cyan = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let mut out = String::new();
    let _ = writeln!(out, "{bold}--- {old_name}{bold:#}");
    let _ = writeln!(out, "{bold}+++ {new_name}{bold:#}");
    for (start, end) in hunks {
        // Line numbers (1-based) where the hunk starts in each file.
        let old_start = 1 + script[..start].iter().filter(|e| !matches!(e, Edit::Added(_))).count();
        let new_start = 1 + script[..start].iter().filter(|e| !matches!(e, Edit::Removed(_))).count();
        let hunk = &script[start..end];
        let old_len = hunk.iter().filter(|e| !matches!(e, Edit::Added(_))).count();
        let new_len = hunk.iter().filter(|e| !matches!(e, Edit::Removed(_))).count();
        let _ = writeln!(
            out,
            "{cyan}@@ -{} +{} @@{cyan:#}",
            range(old_start, old_len),
            range(new_start, new_len)
        );
        for edit in hunk {
            let _ = match edit {
                Edit::Same(l) => writeln!(out, " {l}"),
                Edit::Removed(l) => writeln!(out, "{red}-{l}{red:#}"),
                Edit::Added(l) => writeln!(out, "{green}+{l}{green:#}"),
            };
        }
    }
    out
}

/// A hunk range as `diff -u` writes it: `start,len`, or just `start` for one line.
fn range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{},0", start - 1),
        1 => start.to_string(),
        _ => format!("{start},{len}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A changed line shows as one removal and one addition, with context.
    #[test]
    fn diffs_a_changed_line() {
        let diff = unified("a", "b", "1\n2\n3\n4\n", "1\n2\nthree\n4\n", 1);
        let plain: String = anstream::adapter::strip_str(&diff).to_string();
        assert_eq!(plain, "--- a\n+++ b\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n");
    }

    /// Equal texts have an empty diff; additions at the end are kept.
    #[test]
    fn diffs_edges() {
        assert_eq!(unified("a", "b", "x\n", "x\n", 3), "");
        let plain = anstream::adapter::strip_str(&unified("a", "b", "x\n", "x\ny\n", 3)).to_string();
        assert_eq!(plain, "--- a\n+++ b\n@@ -1 +1,2 @@\n x\n+y\n");
    }
}
