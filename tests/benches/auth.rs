//! The cost of checking credentials on the hot path: a bearer JWT verified cold (signature
//! checked every time: the verified-token cache is off) and warm (cache hit), and a DPoP request
//! (a fresh proof verified on every request, plus the cached token) for ES256, ES384 and EdDSA.
//! The failed-authentication limits: the warm success path with the client address known (the
//! budgets idle, or tracking 10 000 failing addresses and tokens) and with the limits off, and
//! the refusal of a throttled address (429 before any check).
//!
//! Run: `cargo bench -p mcp-tests --bench auth`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Method};
use mcp_server::auth::{
    AuthFailureLimits, Authenticator, AuthorizationConfig, DpopConfig, JwtValidator,
    JwtValidatorConfig,
};
use mcp_server::testing::{DpopKey, TestIssuer};

const URL: &str = "http://127.0.0.1:9/mcp";

fn authenticator(issuer: &TestIssuer, cache: usize, dpop: DpopConfig) -> Authenticator {
    limited(issuer, cache, dpop, AuthFailureLimits::default())
}

fn limited(
    issuer: &TestIssuer,
    cache: usize,
    dpop: DpopConfig,
    limits: AuthFailureLimits,
) -> Authenticator {
    let validator = JwtValidator::new(JwtValidatorConfig::new(issuer.issuer(), "")).unwrap();
    let config = AuthorizationConfig::enabled()
        .authorization_server(issuer.issuer())
        .required_scopes(["read"])
        .resource(URL)
        .validator(validator)
        .dpop(dpop)
        .token_cache_capacity(cache)
        .auth_failure_limits(limits);
    Authenticator::new(config).unwrap()
}

fn headers(auth: &str, proof: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("authorization", HeaderValue::from_str(auth).unwrap());
    if let Some(p) = proof {
        h.insert("dpop", HeaderValue::from_str(p).unwrap());
    }
    h
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = rt.block_on(TestIssuer::start()).unwrap();
    let es256 = issuer.token(URL).scope("read").sign();
    let rs256 = issuer.token(URL).scope("read").rs256().sign();
    let method = Method::POST;

    let cold = authenticator(&issuer, 0, DpopConfig::default());
    let warm = authenticator(&issuer, 10_000, DpopConfig::default());
    for (name, token) in [("es256", &es256), ("rs256", &rs256)] {
        let h = headers(&format!("Bearer {token}"), None);
        // Fetch the keys once outside the measurement.
        assert!(rt.block_on(cold.authenticate(&method, "/mcp", &h)).is_ok());
        c.bench_function(&format!("bearer {name} cold (signature verified)"), |b| {
            b.iter(|| {
                rt.block_on(cold.authenticate(&method, "/mcp", black_box(&h)))
                    .is_ok()
            })
        });
        assert!(rt.block_on(warm.authenticate(&method, "/mcp", &h)).is_ok());
        c.bench_function(&format!("bearer {name} warm (verified-token cache)"), |b| {
            b.iter(|| {
                rt.block_on(warm.authenticate(&method, "/mcp", black_box(&h)))
                    .is_ok()
            })
        });
    }

    // The failed-authentication limits on the warm success path: the client address known
    // (budgets idle; then 10 000 failing addresses and tokens tracked) and the limits off.
    // In process: the addresses are values, no traffic is sent.
    let h = headers(&format!("Bearer {es256}"), None);
    let me = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let warm = authenticator(&issuer, 10_000, DpopConfig::default());
    assert!(
        rt.block_on(warm.authenticate_from(me, &method, "/mcp", &h))
            .is_ok()
    );
    c.bench_function(
        "bearer es256 warm, from an address (failure budgets idle)",
        |b| {
            b.iter(|| {
                rt.block_on(warm.authenticate_from(me, &method, "/mcp", black_box(&h)))
                    .is_ok()
            })
        },
    );
    let off = limited(
        &issuer,
        10_000,
        DpopConfig::default(),
        AuthFailureLimits::disabled(),
    );
    assert!(
        rt.block_on(off.authenticate_from(me, &method, "/mcp", &h))
            .is_ok()
    );
    c.bench_function(
        "bearer es256 warm, from an address (failure limits off)",
        |b| {
            b.iter(|| {
                rt.block_on(off.authenticate_from(me, &method, "/mcp", black_box(&h)))
                    .is_ok()
            })
        },
    );
    for i in 0..10_000u32 {
        let peer = IpAddr::V4(Ipv4Addr::from(0x7f01_0000 | i));
        let junk = headers(&format!("Bearer junk{i}"), None);
        let r = rt.block_on(warm.authenticate_from(peer, &method, "/mcp", &junk));
        assert_eq!(r.err().map(|e| e.status().as_u16()), Some(401));
    }
    c.bench_function(
        "bearer es256 warm, from an address (10 000 failing addresses and tokens tracked)",
        |b| {
            b.iter(|| {
                rt.block_on(warm.authenticate_from(me, &method, "/mcp", black_box(&h)))
                    .is_ok()
            })
        },
    );
    // A throttled address (one failure a day allowed, spent): refused with 429 before the token
    // is looked at.
    let strict = AuthFailureLimits::default().per_address(1, Duration::from_secs(86_400));
    let strict = limited(&issuer, 10_000, DpopConfig::default(), strict);
    let forged = issuer.token(URL).scope("read").tampered();
    let forged = headers(&format!("Bearer {forged}"), None);
    let attacker = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let r = rt.block_on(strict.authenticate_from(attacker, &method, "/mcp", &forged));
    assert_eq!(r.err().map(|e| e.status().as_u16()), Some(401));
    c.bench_function(
        "forged token from a throttled address (429, nothing checked)",
        |b| {
            b.iter(|| {
                let r = rt.block_on(strict.authenticate_from(
                    attacker,
                    &method,
                    "/mcp",
                    black_box(&forged),
                ));
                assert_eq!(r.err().map(|e| e.status().as_u16()), Some(429));
            })
        },
    );

    // Proofs are signed before the clock starts, so only the checks are timed. RSA proofs are
    // left out: signing enough of them beforehand would take minutes.
    let dpop = authenticator(&issuer, 10_000, DpopConfig::allowed());
    for alg in ["ES256", "ES384", "EdDSA"] {
        let key = DpopKey::generate_for(alg).unwrap();
        let bound = issuer
            .token(URL)
            .scope("read")
            .cnf_jkt(&key.thumbprint())
            .sign();
        let auth = format!("DPoP {bound}");
        let first = key.proof("POST", URL, &bound).sign();
        assert!(
            rt.block_on(dpop.authenticate(&method, "/mcp", &headers(&auth, Some(&first))))
                .is_ok()
        );
        let name = format!("dpop {} proof + cached token", alg.to_lowercase());
        c.bench_function(&name, |b| {
            b.iter_custom(|iters| {
                let requests: Vec<HeaderMap> = (0..iters)
                    .map(|_| headers(&auth, Some(&key.proof("POST", URL, &bound).sign())))
                    .collect();
                let start = Instant::now();
                for h in &requests {
                    assert!(rt.block_on(dpop.authenticate(&method, "/mcp", h)).is_ok());
                }
                start.elapsed()
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
