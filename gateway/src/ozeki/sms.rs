//! Ozeki's `SendSms` (the command and OzML's): a SIP MESSAGE to a registered extension of the
//! tenant, from an API extension (or `Sender`); the phones' answers become the
//! `SMSDeliveryReport` at `DeliveryReportURL`.

use crate::Gateway;
use crate::webhooks::Notification;
use patchbay_api::{SipMessageMethod, SipMessageRequest};
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::vendors::ozeki::notify;

/// A text to send.
#[derive(Debug, Clone)]
pub(crate) struct Sms {
    pub api_extension: String,
    pub sender: Option<String>,
    pub recipient: String,
    pub message: String,
    pub report_url: Option<String>,
}

impl Gateway {
    /// Send `sms`: its `SmsId` (a GUID) once the recipient is known to have a phone (`501`
    /// otherwise; an API extension that is not one: `401`). Delivery goes on in the
    /// background.
    pub(crate) async fn ozeki_sms(&self, tenant: &str, sms: Sms) -> Result<String, Failure> {
        if self
            .ozeki
            .extension(tenant, &sms.api_extension)
            .await
            .map_err(crate::handlers::db)?
            .is_none()
        {
            return Err(Failure::EndpointUnavailable(sms.api_extension));
        }
        let registered = self
            .b2bua
            .registrations(tenant)
            .await
            .map_err(|e| self.b2bua_failure("registrations", e))?
            .iter()
            .any(|r| r.user == sms.recipient);
        if !registered {
            return Err(Failure::NoDestination);
        }
        let id = crate::handlers::random_hex(16);
        let sms_id = format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..32]
        );
        let req = SipMessageRequest {
            tenant: tenant.to_string(),
            to: sms.recipient.clone(),
            method: SipMessageMethod::Message,
            content_type: "text/plain;charset=UTF-8".into(),
            body: sms.message,
            headers: vec![],
            from: Some(sms.sender.unwrap_or(sms.api_extension)),
        };
        let (b, hooks, tenant, sid) = (
            self.b2bua.clone(),
            self.webhooks.clone(),
            tenant.to_string(),
            sms_id.clone(),
        );
        let (recipient, report_url) = (sms.recipient, sms.report_url);
        tokio::spawn(async move {
            let delivered = b
                .sip_message(&req)
                .await
                .is_ok_and(|r| r.iter().any(|x| (200..300).contains(&x.status)));
            let Some(url) = report_url else { return };
            let status = if delivered { "Delivered" } else { "Failed" };
            let body = notify::form(
                "SMSDeliveryReport",
                &[
                    ("SmsId", &sid),
                    ("Recipient", &recipient),
                    ("Status", status),
                ],
            );
            let n = Notification {
                tenant,
                vendor: "ozeki",
                kind: "SMSDeliveryReport",
                key: sid.clone(),
                url,
                content_type: notify::CONTENT_TYPE.to_string(),
                headers: notify::HEADERS
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body,
            };
            if let Err(e) = hooks.enqueue(n).await {
                tracing::warn!(sms = %sid, error = %e, "SMSDeliveryReport could not be queued");
            }
        });
        Ok(sms_id)
    }
}
