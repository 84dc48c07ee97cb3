//! The dial plan: patterns, normalization (E.164 and national forms), rewrite, refusal, order.
use patchbay_api::DialRule;
use patchbay_proto::dialplan::{Route, check_rule, matches, normalize, route};

fn rule(pattern: &str, strip: u32, prepend: &str, trunk: Option<&str>) -> DialRule {
    DialRule {
        pattern: pattern.into(),
        strip,
        prepend: prepend.into(),
        trunk: trunk.map(Into::into),
        refuse: trunk.is_none(),
    }
}

#[test]
fn patterns_match_like_a_pbx_dial_plan() {
    assert!(matches("112", "112"));
    assert!(!matches("112", "1120"));
    assert!(matches("9NXXXXXX", "92345678"));
    assert!(!matches("9NXXXXXX", "91345678"));
    assert!(matches("0[2-9]X.", "0812345678"));
    assert!(!matches("0[2-9]X.", "0112345678"));
    assert!(!matches("0[2-9]X.", "081"), "`.` needs one more");
    assert!(matches("0[2-9]X!", "081"), "`!` needs none");
    assert!(matches("+66X.", "+66812345678"));
    assert!(!matches("+66X.", "+15551234567"));
    assert!(matches("1900X.", "1900123"));
    assert!(matches("*7X", "*71"));
    assert!(!matches("X.", "+66"), "a + is only ever first");
    for bad in ["", "1.2", "[", "[a]", "[9-1]", "12a", "1+2"] {
        assert!(!matches(bad, "12"), "{bad}");
        assert!(check_rule(&rule(bad, 0, "", Some("t"))).is_err(), "{bad}");
    }
}

#[test]
fn numbers_are_compared_in_one_form() {
    assert_eq!(normalize("+66812345678").as_deref(), Some("+66812345678"));
    // promptCall: the country code, then the national number with its leading zero.
    assert_eq!(normalize("+660812345678").as_deref(), Some("+66812345678"));
    assert_eq!(
        normalize("+66 (0)81-234-5678").as_deref(),
        Some("+66812345678")
    );
    assert_eq!(normalize("0812345678").as_deref(), Some("0812345678"));
    assert_eq!(normalize("*97").as_deref(), Some("*97"));
    assert_eq!(normalize("sip:1@x"), None);
    assert_eq!(normalize("12ab"), None);
    assert_eq!(normalize("1+2"), None);
}

#[test]
fn first_match_routes_rewrites_or_refuses() {
    let plan = vec![
        rule("112", 0, "", None),
        rule("1900X.", 0, "", None),
        rule("+66X.", 3, "0", Some("carrier")),
        rule("0[2-9]X.", 0, "", Some("carrier")),
        rule("00X.", 2, "+", Some("intl")),
    ];
    for r in &plan {
        check_rule(r).unwrap();
    }
    assert_eq!(route(&plan, "112"), Route::Refused { rule: 0 });
    assert_eq!(route(&plan, "1900123456"), Route::Refused { rule: 1 });
    let carrier = |rule, n: &str| Route::Trunk {
        rule,
        trunk: "carrier".into(),
        number: n.into(),
    };
    assert_eq!(route(&plan, "+66812345678"), carrier(2, "0812345678"));
    assert_eq!(route(&plan, "+660812345678"), carrier(2, "0812345678"));
    assert_eq!(route(&plan, "0812345678"), carrier(3, "0812345678"));
    assert_eq!(
        route(&plan, "0044207946000"),
        Route::Trunk {
            rule: 4,
            trunk: "intl".into(),
            number: "+44207946000".into()
        }
    );
    assert_eq!(route(&plan, "+15551234567"), Route::NoRule);
    assert_eq!(route(&[], "0812345678"), Route::NoRule);
    assert_eq!(route(&plan, "sip:x@y"), Route::NoRule);
    assert!(
        check_rule(&DialRule {
            refuse: true,
            ..rule("112", 0, "", Some("t"))
        })
        .is_err()
    );
    assert!(
        check_rule(&DialRule {
            refuse: false,
            ..rule("112", 0, "", None)
        })
        .is_err()
    );
    assert!(check_rule(&rule("X.", 0, "9a", Some("t"))).is_err());
}
