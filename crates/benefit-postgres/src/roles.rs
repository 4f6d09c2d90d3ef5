//! The roles of a ledger, as the SQL an administrator runs: an operator
//! may append and read, an auditor may only read, and neither may change
//! or remove a record (the privileges refuse it before the append-only
//! triggers would). Each is granted on one ledger's schema only, so a role
//! of one partner organisation's ledger can neither read nor write
//! another's.
//!
//! The derived documents and their checkpoint are writable by both: any
//! reader may bring them up to the log (they are a fold of it, and
//! `rebuild` recomputes them), while the log itself stays insert-only.
//! `docs/postgres.md` shows this SQL for an example ledger; a test keeps
//! the two the same.

/// `CREATE ROLE` for a role that logs in (give it a password with
/// `ALTER ROLE ... PASSWORD`, or use the server's own authentication).
pub fn create_login_role(role: &str) -> String {
    format!("CREATE ROLE \"{role}\" LOGIN;")
}

/// What an operator of the ledger in `schema` is granted: `SELECT` and
/// `INSERT` on the log, the documents read and written, nothing else.
pub fn grant_operator(schema: &str, role: &str) -> String {
    grants(schema, role, "SELECT, INSERT")
}

/// What an auditor of the ledger in `schema` is granted: `SELECT` on the
/// log, the documents read and written.
pub fn grant_auditor(schema: &str, role: &str) -> String {
    grants(schema, role, "SELECT")
}

fn grants(schema: &str, role: &str, on_log: &str) -> String {
    format!(
        "GRANT USAGE ON SCHEMA \"{schema}\" TO \"{role}\";\n\
         GRANT {on_log} ON \"{schema}\".events, \"{schema}\".commands TO \"{role}\";\n\
         GRANT SELECT ON \"{schema}\".ledger_migrations TO \"{role}\";\n\
         GRANT SELECT, INSERT, UPDATE, DELETE ON \"{schema}\".documents, \"{schema}\".checkpoint TO \"{role}\";"
    )
}
