//! Gateway end-to-end scenarios, one per module: the real gateway (pingora) in front of the real
//! B2BUA, SIPp phones where a call must really happen.

mod b2bua_down;
mod bans;
mod basic_and_api_keys;
mod brekeke_3pcc_page;
mod brekeke_conformance;
mod brekeke_hostile_xml;
mod brekeke_new_tenant;
mod brekeke_php_call;
mod brekeke_zeep_users;
mod caller_id;
mod click_to_call_voicemail;
mod compat_matrix;
mod compat_with_phones;
mod cross_tenant;
mod destinations_refused;
mod digest;
mod follow_me;
mod forward_settings;
mod jwt;
mod limits;
mod native_app_call;
mod native_app_number;
mod native_call;
mod native_recordings;
mod ring_groups;
mod tenant_settings;
mod tls_listener;
mod trunk_forward_to_mobile;
mod trunk_inbound_did;
mod trunk_outbound;
mod vendor_forms;
mod vendors_conformance;
mod voicemail_deposit;
mod voicemail_greeting_by_phone;
mod voicemail_listen;
