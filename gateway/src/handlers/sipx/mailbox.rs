//! sipXconfig's voicemail: a folder as RSS (`/my/feed/voicemail/{folder}`), whose links
//! download each message's WAV through the user's private URL
//! (`/private/{key}/voicemail/{folder}/{id}`, also `/my/voicemail/{folder}/{id}`).

use super::Rest;
use crate::handlers::{Ctx, Reply, db};
use patchbay_gateway_proto::Failure;
use patchbay_gateway_proto::vendors::sipx::feed::{self, Message};
use patchbay_gateway_proto::vendors::sipx::rest::{self, Variant};

/// The user's private key: derived from the gateway's key and the user's current web PIN
/// hash (any gateway sharing the key derives the same; a new PIN, or the extension deleted
/// and made again, gives a new key), its digest stored so that `/private/{key}/...` finds
/// the user. A PIN change clears the stored digest at once.
async fn private_key(cx: &Rest<'_>) -> Result<String, Failure> {
    let pin = cx
        .gw
        .store
        .web_credentials(cx.tenant(), cx.user())
        .await
        .map_err(db)?
        .map(|c| c.pin_hash)
        .unwrap_or_default();
    let key = cx
        .gw
        .authn
        .link_sig(&["sipx-private", cx.tenant(), cx.user(), &pin]);
    cx.gw
        .store
        .set_private_key(cx.tenant(), cx.user(), Some(&key))
        .await
        .map_err(db)?;
    Ok(key)
}

fn folder_ok(folder: &str) -> Result<(), Failure> {
    if patchbay_store::VOICEMAIL_FOLDERS.contains(&folder) {
        Ok(())
    } else {
        Err(Failure::NotFound(String::new()))
    }
}

/// `/my/feed/voicemail/{folder}`.
pub(super) async fn feed(cx: &Rest<'_>, ctx: &mut Ctx, folder: &str) -> Result<Reply, Failure> {
    ctx.endpoint = "voicemail_feed";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    rest::negotiate(cx.req, &[Variant::Rss])
        .ok_or_else(|| Failure::NotAcceptable(String::new()))?;
    folder_ok(folder)?;
    let scheme = if ctx.tls { "https" } else { "http" };
    let host = cx
        .req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let root = format!("{scheme}://{host}/sipxconfig/rest");
    let link = format!(
        "{scheme}://{host}{}",
        cx.req.uri().path_and_query().map_or("", |p| p.as_str())
    );
    let key = private_key(cx).await?;
    let mut rows = cx
        .gw
        .store
        .voicemails(cx.tenant(), cx.user(), Some(folder))
        .await
        .map_err(db)?;
    rows.sort_by_key(|m| (m.created_ms, m.id.clone()));
    let messages: Vec<Message> = rows
        .iter()
        .map(|m| Message {
            id: m.id.clone(),
            from: m.caller.clone(),
            created_ms: m.created_ms,
            duration_ms: m.duration_ms,
        })
        .collect();
    Ok(Reply::Full(feed::render(
        cx.user(),
        folder,
        &link,
        &format!("{root}/private/{key}"),
        &messages,
    )))
}

/// A message's audio (`Range` passed on).
pub(super) async fn message(
    cx: &Rest<'_>,
    ctx: &mut Ctx,
    folder: &str,
    id: &str,
) -> Result<Reply, Failure> {
    ctx.endpoint = "voicemail_message";
    if cx.method != "GET" {
        return Err(Failure::MethodNotAllowed);
    }
    folder_ok(folder)?;
    let m = cx
        .gw
        .store
        .voicemail(cx.tenant(), cx.user(), id)
        .await
        .map_err(db)?
        .filter(|m| m.folder == folder)
        .ok_or_else(|| Failure::NotFound(String::new()))?;
    let range = cx
        .req
        .headers()
        .get(http::header::RANGE)
        .and_then(|v| v.to_str().ok());
    let resp = cx
        .gw
        .b2bua
        .recording_file(cx.tenant(), &m.recording, range)
        .await
        .map_err(|e| cx.gw.b2bua_failure("voicemail", e))?;
    Ok(Reply::Download(resp))
}
