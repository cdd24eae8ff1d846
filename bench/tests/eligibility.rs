//! The expression engine computes the reference workload exactly (every count, sum, maximum
//! and the row-weighted checksum), so its speed figures are for correct work.

#[test]
fn twenty_policies_over_100k_enterprises_match_the_reference() {
    let s = bench::schema();
    let e = bench::generate(100_000);
    let b = bench::batch(&e, &s);
    let ps = bench::policies(&s);
    let ctx = domain::expr::EvalContext { today: time::macros::date!(2024 - 12 - 31), calendar: None };
    let want = bench::expected(100_000).unwrap();
    assert_eq!(bench::evaluate(&b, &ps, &ctx, 1), want);
    assert_eq!(bench::evaluate(&b, &ps, &ctx, 2), want, "threads share out policies, same answer");
}
