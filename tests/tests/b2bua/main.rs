//! B2BUA end-to-end scenarios, one per module: the real B2BUA, SIPp phones, RTP on loopback.

mod app_collect_inband;
mod app_collect_rfc4733;
mod app_hangup;
mod app_play_url;
mod app_play_wav;
mod app_speak;
mod bad_input;
mod bridged_play_collect;
mod codec_choice;
mod conference_bridged_three_way;
mod conference_three_phones;
mod control_token;
mod digest_sha256;
mod inbound_call_rtp;
mod offerless_invite;
mod phone_hold;
mod phone_refer;
mod phone_tcp;
mod phone_tls;
mod record_bridged_stereo;
mod sip_flood;
mod sip_foreign_tenant;
mod sip_message;
mod state_cells;
mod threepcc_caller_first;
mod trunk_register;
