//! Call scenarios against the sans-IO core, one scenario per module.
//! The harness feeds inputs at virtual times and records every output.

#![allow(unreachable_pub)]

mod harness;

mod app_call;
mod app_connect;
mod attendant;
mod attended_transfer;
mod conference;
mod conference_entry;
mod conference_invite;
mod dialplan;
mod orphan_end;
mod queue_agents;
mod queue_overflow;
mod queue_ringall;
mod queue_strategies;
mod recording;
mod routing_plan;

mod inbound_answered;
mod inbound_app_number;
mod inbound_busy_and_cancel;
mod inbound_deflect;
mod inbound_forwarding;
mod originate_callee_forwarding;
mod originate_caller_first;
mod originate_headers_intercom;
mod originate_held_start;
mod originate_simultaneous_fork;
mod state_action_table;
mod transfer;
mod voicemail_access;
mod voicemail_deposit;
