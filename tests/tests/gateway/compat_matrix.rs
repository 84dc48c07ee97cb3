//! compat-specs/MATRIX.md is the rendering of the case files as they are: a stale matrix fails
//! (`PATCHBAY_BLESS=1` rewrites it). The rows themselves are checked against the gateway by
//! the conformance walks.
use patchbay_tests::render_compat_matrix;

#[test]
fn compat_matrix_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../compat-specs/MATRIX.md");
    let want = render_compat_matrix();
    if patchbay_tests::bless() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "compat-specs/MATRIX.md is stale: run PATCHBAY_BLESS=1 cargo test -p patchbay-tests \
         --test gateway compat_matrix and commit it"
    );
}
