//! Voicemail's wiring: a message the core reports is indexed in the store (its audio is the
//! recording), then the mailbox's phones are told how many messages wait (SIP NOTIFY,
//! `message-summary`, RFC 3842), each registered phone once; a PIN typed to listen is checked
//! (argon2, off the loop) and the new messages listed; a message moved by key is moved, and
//! the phones told again; a greeting recorded by phone becomes the mailbox's greeting file.

use super::{Driver, TaskDone};
use patchbay_api::{SipMessageMethod, SipMessageRequest};
use patchbay_proto::{MailboxAction, VoicemailMessage};

// === impl Driver ===

impl Driver {
    pub(super) fn mailbox(&mut self, action: MailboxAction) {
        match action {
            MailboxAction::Store(m) => self.voicemail_left(m),
            MailboxAction::Login {
                call,
                tenant,
                mailbox,
                pin,
            } => {
                let (store, tasks) = (self.sh.store.clone(), self.tasks.clone());
                tokio::spawn(async move {
                    let hash = store.vm_pin_hash(&tenant, &mailbox).await.ok().flatten();
                    let ok = match hash {
                        Some(h) => tokio::task::spawn_blocking(move || {
                            patchbay_store::verify_secret(&h, &pin)
                        })
                        .await
                        .unwrap_or(false),
                        None => false,
                    };
                    let messages = if ok {
                        let mut v = store
                            .voicemails(&tenant, &mailbox, Some("inbox"))
                            .await
                            .unwrap_or_default();
                        v.reverse(); // oldest first
                        v.into_iter().map(|m| (m.id, m.recording)).collect()
                    } else {
                        Vec::new()
                    };
                    let _ = tasks.send(TaskDone::VoicemailLogin { call, ok, messages });
                });
            }
            MailboxAction::Greeting {
                tenant,
                mailbox,
                greeting,
                recording,
            } => {
                // The recording becomes the greeting file, and is no recording any more.
                let (store, prompts) = (self.sh.store.clone(), self.apps.prompts.clone());
                tokio::spawn(async move {
                    let name = format!("voicemail/{mailbox}/{greeting}.wav");
                    let Ok(Some(rec)) = store.recording(&tenant, &recording).await else {
                        return tracing::warn!(tenant, recording, "greeting recording not found");
                    };
                    let from = std::path::PathBuf::from(&rec.path);
                    if let Err(e) = prompts.put_file(&tenant, &name, &from).await {
                        return tracing::warn!(tenant, name, error = %e, "greeting not kept");
                    }
                    if store.delete_recording(&tenant, &recording).await.is_ok() {
                        let _ = tokio::fs::remove_file(&from).await;
                    }
                });
            }
            MailboxAction::Move {
                tenant,
                mailbox,
                id,
                folder,
            } => {
                let (store, tasks) = (self.sh.store.clone(), self.tasks.clone());
                tokio::spawn(async move {
                    if store
                        .set_voicemail_folder(&tenant, &mailbox, &id, folder)
                        .await
                        .is_ok()
                    {
                        let waiting = store
                            .voicemails(&tenant, &mailbox, Some("inbox"))
                            .await
                            .map_or(0, |v| v.len());
                        let _ = tasks.send(TaskDone::Mwi {
                            tenant,
                            mailbox,
                            waiting,
                        });
                    }
                });
            }
        }
    }

    fn voicemail_left(&mut self, m: VoicemailMessage) {
        self.sh.metrics.voicemail_messages.inc();
        let (store, tasks) = (self.sh.store.clone(), self.tasks.clone());
        tokio::spawn(async move {
            let row = patchbay_store::VoicemailRow {
                id: m.recording.clone(),
                tenant: m.tenant.clone(),
                mailbox: m.mailbox.clone(),
                folder: "inbox".into(),
                caller: m.from,
                created_ms: m.at_ms,
                duration_ms: m.duration_ms,
                recording: m.recording,
            };
            // One retry, as for CDRs.
            if store.insert_voicemail(&row).await.is_err()
                && let Err(e) = store.insert_voicemail(&row).await
            {
                tracing::warn!(mailbox = %m.mailbox, error = %e, "voicemail not indexed");
                return;
            }
            let waiting = store
                .voicemails(&m.tenant, &m.mailbox, Some("inbox"))
                .await
                .map_or(1, |v| v.len());
            let _ = tasks.send(TaskDone::Mwi {
                tenant: m.tenant,
                mailbox: m.mailbox,
                waiting,
            });
        });
    }

    /// Tell `mailbox`'s registered phones that `waiting` messages wait (none registered: no
    /// one to tell).
    pub(super) fn notify_mwi(&mut self, tenant: String, mailbox: String, waiting: usize) {
        let req = SipMessageRequest {
            tenant,
            to: mailbox.clone(),
            method: SipMessageMethod::Notify,
            content_type: "application/simple-message-summary".into(),
            body: format!(
                "Messages-Waiting: {}\r\nMessage-Account: sip:{mailbox}@{}\r\nVoice-Message: {waiting}/0\r\n",
                if waiting > 0 { "yes" } else { "no" },
                self.sip_host
            ),
            headers: vec![
                ("Event".into(), "message-summary".into()),
                ("Subscription-State".into(), "active".into()),
            ],
            from: None,
        };
        if let Err(e) = self.send_messages(req) {
            tracing::debug!(mailbox, error = %e.message, "no phone told of its voicemail");
        }
    }
}
