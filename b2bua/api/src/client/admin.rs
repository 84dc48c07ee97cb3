//! The control client's tenant administration: conference rooms, ring groups, trunks, the
//! dial plan, inbound numbers.

use super::{ClientError, ControlClient};

impl ControlClient {
    pub async fn auto_attendants(
        &self,
        tenant: &str,
    ) -> Result<Vec<crate::AutoAttendant>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/auto-attendants"))),
        )
        .await
    }

    pub async fn auto_attendant(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<crate::AutoAttendant, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/auto-attendants/{id}"))),
        )
        .await
    }

    /// Add or replace an attendant (named by `id`; the body's id is ignored).
    pub async fn put_auto_attendant(
        &self,
        tenant: &str,
        id: &str,
        a: &crate::AutoAttendant,
    ) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/auto-attendants/{id}")))
                .json(a),
        )
        .await
    }

    pub async fn delete_auto_attendant(&self, tenant: &str, id: &str) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .delete(self.url(&format!("/v1/tenants/{tenant}/auto-attendants/{id}"))),
        )
        .await
    }

    pub async fn special_mode(&self, tenant: &str) -> Result<crate::SpecialMode, ClientError> {
        self.send(self.http.get(self.url(&format!(
            "/v1/tenants/{tenant}/auto-attendants-special-mode"
        ))))
        .await
    }

    pub async fn set_special_mode(
        &self,
        tenant: &str,
        mode: &crate::SpecialMode,
    ) -> Result<crate::SpecialMode, ClientError> {
        self.send(
            self.http
                .put(self.url(&format!(
                    "/v1/tenants/{tenant}/auto-attendants-special-mode"
                )))
                .json(mode),
        )
        .await
    }

    pub async fn conference_rooms(
        &self,
        tenant: &str,
    ) -> Result<Vec<crate::ConferenceRoom>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/conference-rooms"))),
        )
        .await
    }

    pub async fn conference_room(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<crate::ConferenceRoom, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/conference-rooms/{name}"))),
        )
        .await
    }

    /// Add or replace a dial-in room (named by `name`; the body's name is ignored).
    pub async fn put_conference_room(
        &self,
        tenant: &str,
        name: &str,
        r: &crate::ConferenceRoom,
    ) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/conference-rooms/{name}")))
                .json(r),
        )
        .await
    }

    pub async fn delete_conference_room(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .delete(self.url(&format!("/v1/tenants/{tenant}/conference-rooms/{name}"))),
        )
        .await
    }

    pub async fn ring_groups(&self, tenant: &str) -> Result<Vec<crate::RingGroup>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/groups"))),
        )
        .await
    }

    pub async fn ring_group(
        &self,
        tenant: &str,
        number: &str,
    ) -> Result<crate::RingGroup, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/groups/{number}"))),
        )
        .await
    }

    /// Add or replace a ring group (numbered by `number`; the body's number is ignored).
    pub async fn put_ring_group(
        &self,
        tenant: &str,
        number: &str,
        g: &crate::RingGroup,
    ) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/groups/{number}")))
                .json(g),
        )
        .await
    }

    pub async fn delete_ring_group(&self, tenant: &str, number: &str) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .delete(self.url(&format!("/v1/tenants/{tenant}/groups/{number}"))),
        )
        .await
    }

    pub async fn trunks(&self, tenant: &str) -> Result<Vec<crate::Trunk>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/trunks"))),
        )
        .await
    }

    pub async fn trunk(&self, tenant: &str, name: &str) -> Result<crate::Trunk, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/trunks/{name}"))),
        )
        .await
    }

    /// Add or replace a trunk (named by `name`; the body's name is ignored).
    pub async fn put_trunk(
        &self,
        tenant: &str,
        name: &str,
        t: &crate::Trunk,
    ) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/trunks/{name}")))
                .json(t),
        )
        .await
    }

    pub async fn delete_trunk(&self, tenant: &str, name: &str) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .delete(self.url(&format!("/v1/tenants/{tenant}/trunks/{name}"))),
        )
        .await
    }

    pub async fn dialplan(&self, tenant: &str) -> Result<Vec<crate::DialRule>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/dialplan"))),
        )
        .await
    }

    pub async fn set_dialplan(
        &self,
        tenant: &str,
        rules: &[crate::DialRule],
    ) -> Result<Vec<crate::DialRule>, ClientError> {
        self.send(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/dialplan")))
                .json(rules),
        )
        .await
    }

    pub async fn dids(&self, tenant: &str) -> Result<Vec<crate::Did>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("/v1/tenants/{tenant}/dids"))),
        )
        .await
    }

    pub async fn put_did(&self, tenant: &str, d: &crate::Did) -> Result<crate::Did, ClientError> {
        let number = &d.number;
        self.send(
            self.http
                .put(self.url(&format!("/v1/tenants/{tenant}/dids/{number}")))
                .json(&serde_json::json!({ "destination": d.destination, "cti_url": d.cti_url })),
        )
        .await
    }

    pub async fn delete_did(&self, tenant: &str, number: &str) -> Result<(), ClientError> {
        self.send_empty(
            self.http
                .delete(self.url(&format!("/v1/tenants/{tenant}/dids/{number}"))),
        )
        .await
    }
}
