//! The one writer every command prints through.
//!
//! A reader that goes away (`medmij-tls verify … | head -1`) closes the pipe; `println!` would
//! panic (exit 101) and the verdict's exit code would be lost. Here a closed pipe ends the output
//! quietly and the command still exits with its own code. Any other write error is said once on
//! stderr, the output stops, and the exit code is kept as well.
//!
//! Text meant for people goes through [`esc`]: certificate names, whitelist entries and error
//! details come from peers and files, and a CN holding a newline and ANSI escapes must not be
//! able to print a line that looks like our own (`ACCEPTED …`).

use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STOPPED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout unless output has stopped; never fails, never panics.
pub(crate) fn write(text: &str) {
    if STOPPED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        STOPPED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("medmij-tls: error: cannot write the output: {e}");
        }
    }
}

/// Prints one line through [`write`].
macro_rules! outln {
    () => { $crate::output::write("\n") };
    ($($arg:tt)*) => { $crate::output::write(&format!("{}\n", format_args!($($arg)*))) };
}
pub(crate) use outln;

/// `s` with every control character (newline, ESC, DEL, C1 …) written as an escape, so that one
/// field stays on one line and cannot steer a terminal. Plain text is returned as is.
pub(crate) fn esc(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Multi-line text with every line passed through [`esc`] (the newlines between them kept).
pub(crate) fn esc_lines(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for line in s.lines() {
        o.push_str(&esc(line));
        o.push('\n');
    }
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_cannot_make_a_new_line_or_a_colour() {
        assert_eq!(super::esc("plain name"), "plain name");
        let evil = "node\nACCEPTED  x\u{1b}[32m";
        let shown = super::esc(evil);
        assert!(
            !shown.contains('\n') && !shown.contains('\u{1b}'),
            "{shown}"
        );
        assert!(
            shown.contains("\\n") && shown.contains("\\u{1b}"),
            "{shown}"
        );
    }
}
