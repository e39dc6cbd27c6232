//! `cargo workshop book`: the mdBook built offline (search index included) and
//! served on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::fixture::Fixture;

/// `build_book` writes book/book/index.html and a search index.
#[test]
fn builds_the_book_with_search() {
    let fixture = Fixture::new();
    let out = bigbang_workshop::book::build_book(fixture.root()).unwrap();
    assert_eq!(out, fixture.root().join("book/book"));
    assert!(out.join("index.html").is_file());
    let search_index = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("searchindex"));
    assert!(search_index, "no searchindex* in {}", out.display());
}

/// A workspace without book/book.toml is a clear error.
#[test]
fn no_book_is_an_error() {
    let fixture = Fixture::new();
    std::fs::remove_file(fixture.root().join("book/book.toml")).unwrap();
    let err = bigbang_workshop::book::build_book(fixture.root()).unwrap_err();
    assert!(matches!(err, bigbang_workshop::book::BookError::NoBook { .. }), "{err:?}");
}

/// `book --serve --port P` answers on 127.0.0.1:P with the book's pages.
#[test]
fn serves_the_book() {
    let fixture = Fixture::new();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-workshop"))
        .args(["book", "--serve", "--port", &port.to_string()])
        .current_dir(fixture.root())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let response = loop {
        match get(port, "/containers.html") {
            Ok(response) => break response,
            Err(e) if Instant::now() > deadline => panic!("no answer on port {port}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let index = get(port, "/");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("A container is a process."), "{response}");
    assert!(index.unwrap().contains("Introduction"));
}

/// A taken port is reported with what to do instead.
#[test]
fn a_taken_port_is_explained() {
    let fixture = Fixture::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    fixture
        .cmd()
        .args(["book", "--serve", "--port", &port.to_string()])
        .assert()
        .failure()
        .stderr(predicates::str::contains(format!("port {port} on 127.0.0.1 is taken")))
        .stderr(predicates::str::contains("pick another with `--port"));
}

/// The front page (`cargo workshop` without a command) takes the `--port` the message
/// suggests, and explains a taken one the same way.
#[test]
fn the_front_page_takes_the_port_it_suggests() {
    let fixture = Fixture::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    fixture
        .cmd()
        .args(["--port", &port.to_string()])
        .assert()
        .failure()
        .stderr(predicates::str::contains(format!("port {port} on 127.0.0.1 is taken")))
        .stderr(predicates::str::contains("`cargo workshop --port"));
}

/// A plain HTTP/1.1 GET, so the test needs no HTTP client crate.
fn get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}
