//! One translator per vendor API: `parse_request` into an operation, `render_*` of outcomes and
//! `render_error`, the single place each vendor's error form is produced.

pub mod brekeke;
pub mod brekeke_soap;
pub mod native;
pub mod ozeki;
pub mod promptcall;
pub mod sipx;
pub mod taridium;

use crate::route::Vendor;
use crate::{Failure, Response};

/// The vendor's own error form for `f`.
pub fn render_error(vendor: Vendor, f: &Failure) -> Response {
    match vendor {
        Vendor::Native => native::render_error(f),
        Vendor::Brekeke => brekeke::render_error(f),
        Vendor::BrekekeSoap => brekeke_soap::render_error(f),
        Vendor::Taridium => taridium::render_error(f),
        Vendor::Sipx => sipx::render_error(f),
        Vendor::SipxCallController => sipx::callcontroller::render_error(f),
        Vendor::Promptcall => promptcall::render_error(f),
        Vendor::Ozeki => ozeki::render_error(f),
    }
}
