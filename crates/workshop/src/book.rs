//! The book: built with mdBook 0.5 as a library, served by a small static server.
//!
//! `build_book` loads `book/` with `mdbook_driver::MDBook` (the `mdbook` crate is
//! only the CLI around it), runs our `segments` and `answers` preprocessors ahead of
//! mdBook's `links`, and builds into `book/book/`, search index included, so the book
//! works offline. `serve` is axum + tower-http's `ServeDir` on 127.0.0.1
//! only; mdBook's own `serve` would add live reload, which the workshop does not need.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

/// What went wrong while building or serving the book.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("no book at {dir}: it needs a book.toml; run this inside your clone of the workshop")]
    NoBook { dir: PathBuf },
    #[error("cannot build the book in {dir}: {message}")]
    Build { dir: PathBuf, message: String },
    #[error("the book built, but {path} is missing; is book.toml's [output.html] section there?")]
    NoIndex { path: PathBuf },
    #[error("port {port} on 127.0.0.1 is taken (another `cargo workshop` serving the book?); pick another with `--port {next}` (`cargo workshop --port {next}`, or `cargo workshop book --serve --port {next}`)")]
    PortInUse { port: u16, next: u16 },
    #[error("cannot serve the book on 127.0.0.1:{port}: {source}")]
    Serve { port: u16, source: std::io::Error },
}

/// Builds the book of the workspace at `root` (`<root>/book`) and returns the
/// folder of the HTML output, `<root>/book/book`.
pub fn build_book(root: &Path) -> Result<PathBuf, BookError> {
    let dir = root.join("book");
    if !dir.join("book.toml").is_file() {
        return Err(BookError::NoBook { dir });
    }
    let build_err = |e: mdbook_driver::errors::Error| BookError::Build {
        dir: dir.clone(),
        // `{:#}` joins the cause chain on one line: "…: …: …".
        message: format!("{e:#}"),
    };
    let book = load(&dir).map_err(build_err)?;
    book.build().map_err(build_err)?;
    let out = book.build_dir_for("html");
    if !out.join("index.html").is_file() {
        return Err(BookError::NoIndex { path: out.join("index.html") });
    }
    Ok(out)
}

/// The book at `dir`, with the preprocessors in order: `segments` (class minutes and
/// speaker notes from chapter.toml, and its own directives, which `links` would leave
/// as text), `answers` (it reads the `{{#include}}` directives, so it runs before
/// `links` expands them), then mdBook's
/// `index` and `links`. `MDBook::with_preprocessor` can only append, after the
/// built-in ones, so these are switched off in the config and registered again here.
fn load(dir: &Path) -> mdbook_driver::errors::Result<mdbook_driver::MDBook> {
    use mdbook_driver::builtin_preprocessors::{IndexPreprocessor, LinkPreprocessor};
    let mut config = mdbook_driver::config::Config::from_disk(dir.join("book.toml"))?;
    config.update_from_env()?;
    config.build.use_default_preprocessors = false;
    let mut book = mdbook_driver::MDBook::load_with_config(dir, config)?;
    book.with_preprocessor(crate::segments::Segments)
        .with_preprocessor(crate::answers::Answers)
        .with_preprocessor(IndexPreprocessor::new())
        .with_preprocessor(LinkPreprocessor::new());
    Ok(book)
}

/// Binds 127.0.0.1:`port` (0 picks a free port), telling a taken port apart
/// from other failures.
pub fn bind(port: u16) -> Result<TcpListener, BookError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            BookError::PortInUse { port, next: port.wrapping_add(1).max(1024) }
        } else {
            BookError::Serve { port, source }
        }
    })
}

/// Serves the files under `dir` on `listener` until the process is stopped
/// (Ctrl-C). Folders answer with their `index.html`.
pub fn serve(dir: &Path, listener: TcpListener) -> Result<(), BookError> {
    let port = listener.local_addr().map(|a: SocketAddr| a.port()).unwrap_or_default();
    let serve_err = |source| BookError::Serve { port, source };
    listener.set_nonblocking(true).map_err(serve_err)?;
    // One thread is plenty for one reader's browser; a current-thread runtime
    // rather than tokio's multi-threaded default.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().map_err(serve_err)?;
    runtime
        .block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            // Missing pages get mdBook's own 404 page, with status 404.
            let files = tower_http::services::ServeDir::new(dir)
                .not_found_service(tower_http::services::ServeFile::new(dir.join("404.html")));
            let app = axum::Router::new().fallback_service(files);
            axum::serve(listener, app).await
        })
        .map_err(serve_err)
}
