//! `server.metrics_port` and `server.ops_port`: `/metrics`, and the ops console and API, each on
//! their own port only; the API, `/healthz` and `/readyz` on the main port only.

use crate::helpers::*;

async fn get(app: &TestApp, port: u16, path: &str) -> u16 {
    app.client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .bearer_auth(DEV_OPS_TOKEN)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn metrics_and_ops_are_served_only_on_their_own_ports() {
    let metrics = free_port();
    let ops = loop {
        let p = free_port();
        if p != metrics {
            break p;
        }
    };
    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", "http://127.0.0.1:9")
            .set("server.metrics_port", metrics.to_string())
            .set("server.ops_port", ops.to_string()),
    )
    .await;
    let main = app.port;
    let cases = [
        // path, [main, metrics, ops]
        ("/healthz", [200, 404, 404]),
        ("/readyz", [200, 404, 404]),
        ("/metrics", [404, 200, 404]),
        ("/v1/ops/events?limit=1", [404, 404, 200]),
        ("/v1/ops/dead-letters", [404, 404, 200]),
    ];
    for (path, expected) in cases {
        let mut got = [0; 3];
        for (i, port) in [main, metrics, ops].into_iter().enumerate() {
            got[i] = get(&app, port, path).await;
        }
        assert_eq!(got, expected, "{path} on main, metrics, ops");
    }
    let res = app
        .client
        .get(format!("http://127.0.0.1:{main}/metrics"))
        .send()
        .await
        .unwrap();
    assert_refused(res, 404, "NOT_FOUND").await;
    let text = app
        .client
        .get(format!("http://127.0.0.1:{metrics}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("bff_http_requests_total"), "{text}");
}
