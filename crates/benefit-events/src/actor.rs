//! Who acts (R1): a user with one of the two roles that may change the ledger.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{excerpt, UserName, ValueError};

/// The roles that may change the ledger (R1). There is no third variant: a
/// role outside these two cannot be represented, only refused at parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A global administrator of the partner's tenant.
    GlobalAdmin,
    /// An MPN partner administrator ("MPN-partnerbeheerder").
    MpnPartnerAdmin,
}

impl Role {
    /// The role's name as written in the ledger and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GlobalAdmin => "global-admin",
            Role::MpnPartnerAdmin => "mpn-partner-admin",
        }
    }

    /// Parses one of the two role names; any other text is refused (R1).
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        match text {
            "global-admin" => Ok(Role::GlobalAdmin),
            "mpn-partner-admin" => Ok(Role::MpnPartnerAdmin),
            _ => Err(ValueError::Role {
                found: excerpt(text),
            }),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The user who made a change and the role they made it in (R1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The user's e-mail address.
    pub user: UserName,
    /// The role the change was made in.
    pub role: Role,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.user, self.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r1_only_two_roles_parse() {
        assert_eq!(Role::parse("global-admin"), Ok(Role::GlobalAdmin));
        assert_eq!(Role::parse("mpn-partner-admin"), Ok(Role::MpnPartnerAdmin));
        assert_eq!(
            Role::parse("billing-admin").map_err(|e| e.to_string()),
            Err("role 'billing-admin' may not change the ledger (R1): only global-admin and mpn-partner-admin may".into())
        );
    }
}
