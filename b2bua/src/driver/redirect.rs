//! Commands that send a call's party elsewhere: a transfer (`bridge` or `refer`) and the
//! deflection of a call still ringing its callee.

use super::{CmdError, Driver, now_ms};
use patchbay_api::{ApiErrorKind, CallId, TransferRequest};
use patchbay_proto::{Input, Target};

// === impl Driver ===

impl Driver {
    pub(super) fn transfer(
        &mut self,
        id: &CallId,
        t: TransferRequest,
        trunked: Option<Target>,
    ) -> Result<(), CmdError> {
        let tenant = self.calls.info(id).map(|i| i.tenant).ok_or_else(|| {
            self.cmd_error(id, patchbay_proto::CallError::UnknownCall(id.clone()))
        })?;
        let targets = match (t.method, trunked) {
            (patchbay_api::TransferMethod::Bridge, Some(tr)) => vec![tr],
            (patchbay_api::TransferMethod::Bridge, None) => self.targets(&tenant, &t.target),
            // The phone dials the target through us.
            (patchbay_api::TransferMethod::Refer, _) => {
                let uri = if t.target.starts_with("sip:") || t.target.starts_with("sips:") {
                    t.target.clone()
                } else {
                    format!("sip:{}@{}", t.target, self.sip_host)
                };
                vec![Target::new(t.target.clone(), uri)]
            }
        };
        if targets.is_empty() {
            return Err(CmdError::new(
                ApiErrorKind::NotFound,
                format!("{} is not registered", t.target),
            ));
        }
        self.calls
            .handle_input(
                now_ms(),
                Input::Transfer {
                    call: id.clone(),
                    target: t.target,
                    targets,
                    keep: t.keep,
                    method: t.method,
                },
            )
            .map_err(|e| self.cmd_error(id, e))
    }

    pub(super) fn deflect(
        &mut self,
        id: &CallId,
        target: String,
        trunked: Option<Target>,
    ) -> Result<(), CmdError> {
        let tenant = self.calls.info(id).map(|i| i.tenant).ok_or_else(|| {
            self.cmd_error(id, patchbay_proto::CallError::UnknownCall(id.clone()))
        })?;
        let targets = match trunked {
            Some(t) => vec![t],
            None => self.targets(&tenant, &target),
        };
        if targets.is_empty() {
            return Err(CmdError::new(
                ApiErrorKind::NotFound,
                format!("{target} is not registered"),
            ));
        }
        self.calls
            .handle_input(
                now_ms(),
                Input::Deflect {
                    call: id.clone(),
                    to: target,
                    targets,
                },
            )
            .map_err(|e| self.cmd_error(id, e))
    }
}
