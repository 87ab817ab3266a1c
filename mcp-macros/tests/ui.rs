//! Compile-time errors of the macros, each checked against its expected `.stderr`
//! (regenerate with `TRYBUILD=overwrite cargo test -p mcp-macros --test ui`, then review).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
