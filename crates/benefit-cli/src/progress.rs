//! The progress bars of the long commands (`append --file`, `verify`,
//! `rebuild`, `export`, `report site`): one helper, so that every bar looks
//! the same and is drawn under the same condition.
//!
//! A bar is drawn on standard error, and only when standard error is a
//! terminal: a script, a pipe or a test sees nothing of it. The libraries
//! never draw; they tell a callback how far a walk of the log has got
//! (`benefit_store::Reporter`), and the command moves its bar.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};

/// Set by `serve`: its commands run for clients, whose terminals it does
/// not see, so it draws no bar on its own.
static HIDDEN: AtomicBool = AtomicBool::new(false);

/// Hides every bar from now on.
pub fn hide() {
    HIDDEN.store(true, Ordering::Relaxed);
}

/// A bar of `length` steps labelled `message`, on standard error; hidden
/// (every call on it does nothing) unless standard error is a terminal.
/// It clears itself when finished or dropped, so that it leaves no line
/// behind, not even before the message of a command that failed.
pub fn bar(length: u64, message: &'static str) -> ProgressBar {
    if HIDDEN.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length)
        .with_message(message)
        .with_finish(ProgressFinish::AndClear);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
