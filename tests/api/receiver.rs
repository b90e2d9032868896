//! A webhook receiver on 127.0.0.1 for tests: records every request, answers as told,
//! and checks signatures.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

#[derive(Debug, Clone)]
pub struct Hit {
    pub at: Instant,
    pub event: String,
    pub delivery: String,
    pub signature: String,
    pub body: String,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    /// Whether `X-Aidflow-Signature` is the HMAC-SHA256 of "t.body" under `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let Some((t, v1)) = self.signature.split_once(",v1=") else {
            return false;
        };
        let Some(t) = t.strip_prefix("t=") else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(format!("{t}.{}", self.body).as_bytes());
        hex::encode(mac.finalize().into_bytes()) == v1
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    Ok,
    /// 500 for the first n requests, then 200.
    FailFirst(usize),
    /// Waits this long before answering 200.
    Hang(Duration),
}

pub struct Receiver {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub fn start(behaviour: Behaviour) -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let shared = hits.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || {
            let hits = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let hits = hits.clone();
                async move {
                    let header = |n: &str| {
                        req.headers()
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    let hit = Hit {
                        at: Instant::now(),
                        event: header("x-aidflow-event"),
                        delivery: header("x-aidflow-delivery"),
                        signature: header("x-aidflow-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    };
                    let seen = {
                        let mut all = hits.lock().expect("lock");
                        all.push(hit);
                        all.len()
                    };
                    match behaviour {
                        Behaviour::Ok => HttpResponse::Ok().finish(),
                        Behaviour::FailFirst(n) if seen <= n => {
                            HttpResponse::InternalServerError().finish()
                        }
                        Behaviour::FailFirst(_) => HttpResponse::Ok().finish(),
                        Behaviour::Hang(d) => {
                            actix_web::rt::time::sleep(d).await;
                            HttpResponse::Ok().finish()
                        }
                    }
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            hits,
            handle,
        }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("lock").clone()
    }

    /// Hits of one event type.
    pub fn of(&self, event: &str) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.event == event)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
    }
}
