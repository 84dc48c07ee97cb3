//! Call detail records.

use crate::{CallId, Cause, EndedBy};
use serde::{Deserialize, Serialize};

/// Call detail record, written once per call when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cdr {
    pub call: CallId,
    pub tenant: String,
    pub from: String,
    /// The callee that answered, or the first dialled when none did.
    pub to: String,
    /// `inbound` (SIP phone called) or `originate` (3PCC from the API).
    pub direction: String,
    pub created_ms: u64,
    pub ringing_ms: Option<u64>,
    pub answered_ms: Option<u64>,
    pub ended_ms: u64,
    /// Whole seconds from creation to end.
    pub duration_s: u64,
    /// Whole seconds from answer (both sides connected) to end.
    pub billsec: u64,
    pub cause: Cause,
    pub ended_by: EndedBy,
    pub status: Option<u16>,
    /// Set when the call was transferred: the target.
    pub transferred_to: Option<String>,
    /// The queue the call went through (a caller of it, or an agent's call-centre call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Account codes for billing (set by the tenant's CTI control).
    #[serde(default, skip_serializing_if = "AccountCodes::is_empty")]
    pub account_codes: AccountCodes,
}

/// A call's account codes (Taridium's `accountcode`, `acc_code2`, `acc_code3`): empty when
/// unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCodes {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub accountcode: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub acc_code2: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub acc_code3: String,
}

impl AccountCodes {
    pub fn is_empty(&self) -> bool {
        self.accountcode.is_empty() && self.acc_code2.is_empty() && self.acc_code3.is_empty()
    }

    /// Later codes replace earlier ones, field by field.
    pub fn merge(&mut self, later: AccountCodes) {
        for (mine, theirs) in [
            (&mut self.accountcode, later.accountcode),
            (&mut self.acc_code2, later.acc_code2),
            (&mut self.acc_code3, later.acc_code3),
        ] {
            if !theirs.is_empty() {
                *mine = theirs;
            }
        }
    }
}
