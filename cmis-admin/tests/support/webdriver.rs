//! A small W3C WebDriver client for the dashboard's browser tests: headless Chromium driven
//! through Debian's `chromedriver` (issue 17).
//!
//! Include it from a test file with `#[path = "support/webdriver.rs"] mod webdriver;`. It needs
//! `cmis-http` (for a reqwest client with a crypto provider), `reqwest`, `serde_json`, `tokio`
//! and `base64`.
//!
//! ```ignore
//! let Some(chrome) = webdriver::Chrome::start_or_skip().await else { return };
//! chrome.goto(&format!("http://{addr}/")).await?;
//! chrome.find("button[type=submit]").await?.click().await?;
//! chrome.wait_for_text("h1", "Saved", Duration::from_secs(5)).await?;
//! chrome.screenshot("target/screens/home.png").await?;
//! ```
//!
//! One `Chrome` is one chromedriver process, one Chromium and one session; dropping it deletes
//! the session (which closes Chromium), kills chromedriver and removes the temporary profile.
//! Use a `Chrome` only inside the tokio runtime that started it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The window size a session starts with.
const DESKTOP: (u32, u32) = (1280, 800);
/// How long chromedriver gets to answer `/status` after it is spawned.
const DRIVER_READY: Duration = Duration::from_secs(20);
/// How often `wait_for` and `wait_for_text` look again.
const POLL: Duration = Duration::from_millis(50);

/// A headless Chromium session behind its own chromedriver.
#[derive(Debug)]
pub(crate) struct Chrome {
    session: Arc<Session>,
    driver: Child,
    port: u16,
    dir: PathBuf,
    deleted: bool,
}

/// What an [`Element`] shares with its [`Chrome`]: the client and the session's URL.
#[derive(Debug)]
struct Session {
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    url: String,
    id: String,
}

/// An element of the current page, as the browser refers to it.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    session: Arc<Session>,
    id: String,
}

/// Where chromedriver and Chromium are.
#[derive(Debug)]
struct Binaries {
    driver: PathBuf,
    chromium: PathBuf,
}

impl Chrome {
    /// Starts chromedriver on a free loopback port and opens a headless Chromium session at
    /// 1280x800. Fails with a message that says what is missing when either binary is not found
    /// (`CMIS_CHROMEDRIVER`, `/usr/bin/chromedriver`, `PATH`; `CMIS_CHROMIUM`, `/usr/bin/chromium`,
    /// `PATH`).
    pub(crate) async fn start() -> Result<Chrome, String> {
        let binaries = Binaries::locate()?;
        let client = cmis_http::client_builder()
            .map_err(|e| format!("webdriver: {e}"))?
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("webdriver: HTTP client could not be built: {e}"))?;
        let dir = temp_dir()?;
        // A port picked by binding port 0 may be taken again before chromedriver binds it:
        // chromedriver then exits at once, and another port is tried.
        let mut last = String::new();
        for _ in 0..3 {
            match spawn_driver(&binaries.driver, &dir, &client).await {
                Ok((driver, port)) => {
                    return open_session(client, driver, port, dir, &binaries.chromium).await;
                }
                Err(e) => last = e,
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(last)
    }

    /// [`Chrome::start`] for a test that needs a browser: `None` (after saying why on stderr)
    /// when chromedriver or Chromium is not installed and `CI` is not set; a panic when they are
    /// missing in CI, or when they are installed but do not start (that is a bug to see, not a
    /// reason to skip).
    pub(crate) async fn start_or_skip() -> Option<Chrome> {
        if let Err(e) = Binaries::locate() {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
            if ci {
                panic!("{e} (CI is set, so browser tests must run)");
            }
            eprintln!("skipping a browser test: {e}");
            return None;
        }
        match Chrome::start().await {
            Ok(chrome) => Some(chrome),
            Err(e) => panic!("{e}"),
        }
    }

    /// Deletes the session now (closing Chromium) and stops chromedriver; dropping does the
    /// same, with a blocking request.
    pub(crate) async fn quit(mut self) -> Result<(), String> {
        let result = self.session.cmd(Method::DELETE, "", None).await.map(drop);
        self.deleted = true;
        result
    }

    /// The session's id.
    pub(crate) fn session_id(&self) -> &str {
        &self.session.id
    }

    /// Sizes the window so that the page's viewport (what a screenshot shows, and what CSS
    /// media queries see) is `width` x `height` CSS pixels, e.g. 390 x 844 for a phone.
    /// Headless Chromium's window has an invisible frame (143 px of height in Chromium 156),
    /// measured here from the window's rect and the page's `innerWidth` and `innerHeight`; an
    /// error if the viewport still differs after a second try.
    pub(crate) async fn set_window_size(&self, width: u32, height: u32) -> Result<(), String> {
        let wanted = (u64::from(width), u64::from(height));
        let mut viewport = self.viewport_size().await?;
        for _ in 0..2 {
            if viewport == wanted {
                return Ok(());
            }
            // The rect, not the page's `outerWidth`: that one never reports less than 500.
            let rect = self.session.cmd(Method::GET, "/window/rect", None).await?;
            let outer = |want: u32, rect: &Value, inner: u64| {
                let frame = rect.as_u64().unwrap_or(inner).saturating_sub(inner);
                u32::try_from(u64::from(want) + frame).unwrap_or(want)
            };
            let body = json!({
                "width": outer(width, &rect["width"], viewport.0),
                "height": outer(height, &rect["height"], viewport.1),
            });
            self.session
                .cmd(Method::POST, "/window/rect", Some(body))
                .await?;
            viewport = self.viewport_size().await?;
        }
        if viewport == wanted {
            return Ok(());
        }
        let (w, h) = viewport;
        Err(format!(
            "webdriver: asked for a {width}x{height} viewport, got {w}x{h}"
        ))
    }

    /// The viewport's size in CSS pixels: `innerWidth` x `innerHeight`.
    pub(crate) async fn viewport_size(&self) -> Result<(u64, u64), String> {
        let size = self
            .execute("return [innerWidth, innerHeight];", vec![])
            .await?;
        match (size[0].as_u64(), size[1].as_u64()) {
            (Some(w), Some(h)) => Ok((w, h)),
            _ => Err(format!("webdriver: the viewport's size is {size}")),
        }
    }

    /// Opens `url` and waits for the page to load.
    pub(crate) async fn goto(&self, url: &str) -> Result<(), String> {
        let body = json!({ "url": url });
        self.session
            .cmd(Method::POST, "/url", Some(body))
            .await
            .map(drop)
    }

    /// Goes back one page in the history.
    pub(crate) async fn back(&self) -> Result<(), String> {
        self.session
            .cmd(Method::POST, "/back", Some(json!({})))
            .await
            .map(drop)
    }

    /// Reloads the page.
    pub(crate) async fn refresh(&self) -> Result<(), String> {
        self.session
            .cmd(Method::POST, "/refresh", Some(json!({})))
            .await
            .map(drop)
    }

    /// The URL of the current page.
    pub(crate) async fn current_url(&self) -> Result<String, String> {
        string(self.session.cmd(Method::GET, "/url", None).await?)
    }

    /// The current page's title.
    pub(crate) async fn title(&self) -> Result<String, String> {
        string(self.session.cmd(Method::GET, "/title", None).await?)
    }

    /// The current page's HTML, as the browser serializes its DOM.
    pub(crate) async fn page_source(&self) -> Result<String, String> {
        string(self.session.cmd(Method::GET, "/source", None).await?)
    }

    /// The first element matching the CSS selector; an error (`no such element`) when none does.
    pub(crate) async fn find(&self, css: &str) -> Result<Element, String> {
        let value = self
            .session
            .cmd(Method::POST, "/element", Some(by_css(css)))
            .await?;
        Element::from_value(&self.session, value)
    }

    /// Every element matching the CSS selector, in document order; empty when none does.
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<Element>, String> {
        let value = self
            .session
            .cmd(Method::POST, "/elements", Some(by_css(css)))
            .await?;
        Element::from_list(&self.session, value)
    }

    /// Waits up to `timeout` for an element matching the CSS selector to exist.
    pub(crate) async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.find(css).await {
                Ok(element) => return Ok(element),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(format!("`{css}` did not appear within {timeout:?}: {last}"));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits up to `timeout` for an element matching the CSS selector whose text contains
    /// `needle`; useful after a click that submits a form and loads a new page.
    pub(crate) async fn wait_for_text(
        &self,
        css: &str,
        needle: &str,
        timeout: Duration,
    ) -> Result<Element, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.find(css).await {
                Ok(element) => match element.text().await {
                    Ok(text) if text.contains(needle) => return Ok(element),
                    Ok(text) => format!("its text is {text:?}"),
                    Err(e) => e,
                },
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(format!(
                    "no `{css}` containing {needle:?} within {timeout:?}: {last}"
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Runs `script` as the body of a function in the page (`arguments[0]`, ... are `args`;
    /// pass an element with [`Element::to_arg`]) and returns what it returns.
    pub(crate) async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        let body = json!({ "script": script, "args": args });
        self.session
            .cmd(Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// A PNG of the viewport.
    pub(crate) async fn screenshot_png(&self) -> Result<Vec<u8>, String> {
        let value = self.session.cmd(Method::GET, "/screenshot", None).await?;
        let data = value
            .as_str()
            .ok_or("webdriver: the screenshot is not a string")?;
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| format!("webdriver: the screenshot is not base64: {e}"))
    }

    /// Writes a PNG of the viewport to `path`, creating its folder.
    pub(crate) async fn screenshot(&self, path: impl AsRef<Path>) -> Result<(), String> {
        let path = path.as_ref();
        let png = self.screenshot_png().await?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// The browser console's errors (level `SEVERE`: uncaught exceptions, `console.error`,
    /// failed loads) since the session started or since the last call: reading drains the log.
    pub(crate) async fn console_errors(&self) -> Result<Vec<String>, String> {
        let body = json!({ "type": "browser" });
        let value = self
            .session
            .cmd(Method::POST, "/se/log", Some(body))
            .await?;
        let entries = value
            .as_array()
            .ok_or("webdriver: the browser log is not a list")?;
        Ok(entries
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect())
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        if !self.deleted {
            // Closes Chromium; killing chromedriver alone would leave it running.
            let path = format!("/session/{}", self.session.id);
            blocking_delete(self.port, &path);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Element {
    fn from_value(session: &Arc<Session>, value: Value) -> Result<Element, String> {
        let id = value
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("webdriver: not an element reference: {value}"))?;
        Ok(Element {
            session: Arc::clone(session),
            id: id.to_owned(),
        })
    }

    fn from_list(session: &Arc<Session>, value: Value) -> Result<Vec<Element>, String> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|v| Element::from_value(session, v))
                .collect(),
            other => Err(format!("webdriver: not a list of elements: {other}")),
        }
    }

    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/element/{}{path}", self.id);
        self.session.cmd(method, &path, body).await
    }

    /// Clicks the element's centre (scrolling it into view first), as a person would; fails if
    /// something else covers it.
    pub(crate) async fn click(&self) -> Result<(), String> {
        self.cmd(Method::POST, "/click", Some(json!({})))
            .await
            .map(drop)
    }

    /// The element's rendered text (what a person sees; hidden text is left out).
    pub(crate) async fn text(&self) -> Result<String, String> {
        string(self.cmd(Method::GET, "/text", None).await?)
    }

    /// An attribute's value, or `None` when the element does not have it.
    pub(crate) async fn attr(&self, name: &str) -> Result<Option<String>, String> {
        match self
            .cmd(Method::GET, &format!("/attribute/{name}"), None)
            .await?
        {
            Value::Null => Ok(None),
            value => string(value).map(Some),
        }
    }

    /// A DOM property's value (e.g. `value` of an input, which the attribute is not).
    pub(crate) async fn property(&self, name: &str) -> Result<Value, String> {
        self.cmd(Method::GET, &format!("/property/{name}"), None)
            .await
    }

    /// Whether the element is shown.
    pub(crate) async fn is_displayed(&self) -> Result<bool, String> {
        let value = self.cmd(Method::GET, "/displayed", None).await?;
        value
            .as_bool()
            .ok_or_else(|| format!("webdriver: `displayed` answered {value}"))
    }

    /// Types `text` into the element (focusing it first); appends to what it holds.
    pub(crate) async fn send_keys(&self, text: &str) -> Result<(), String> {
        self.cmd(Method::POST, "/value", Some(json!({ "text": text })))
            .await
            .map(drop)
    }

    /// Empties an input or text area.
    pub(crate) async fn clear(&self) -> Result<(), String> {
        self.cmd(Method::POST, "/clear", Some(json!({})))
            .await
            .map(drop)
    }

    /// The first element inside this one matching the CSS selector.
    pub(crate) async fn find(&self, css: &str) -> Result<Element, String> {
        let value = self
            .cmd(Method::POST, "/element", Some(by_css(css)))
            .await?;
        Element::from_value(&self.session, value)
    }

    /// Every element inside this one matching the CSS selector.
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<Element>, String> {
        let value = self
            .cmd(Method::POST, "/elements", Some(by_css(css)))
            .await?;
        Element::from_list(&self.session, value)
    }

    /// The element as an argument of [`Chrome::execute`].
    pub(crate) fn to_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

impl Session {
    /// Sends one command; the answer's `value`, or the WebDriver error's name and message.
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        send(&self.client, method, &format!("{}{path}", self.url), body).await
    }
}

impl Binaries {
    fn locate() -> Result<Binaries, String> {
        let driver = find_binary(
            "CMIS_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            &["chromedriver"],
        )
        .map_err(|e| format!("chromedriver not found ({e}); install Debian's `chromium-driver`"))?;
        let chromium = find_binary(
            "CMIS_CHROMIUM",
            "/usr/bin/chromium",
            &["chromium", "chromium-browser"],
        )
        .map_err(|e| format!("Chromium not found ({e}); install Debian's `chromium`"))?;
        Ok(Binaries { driver, chromium })
    }
}

/// The binary named by `env` (which must then exist), else `default`, else the first of `names`
/// on `PATH`.
fn find_binary(env: &str, default: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{env}={} is not a file", path.display()))
        };
    }
    if Path::new(default).is_file() {
        return Ok(PathBuf::from(default));
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|path| path.is_file())
        .ok_or_else(|| format!("not in {env}, {default} or PATH"))
}

/// A new empty folder for chromedriver's log and Chromium's profile.
fn temp_dir() -> Result<PathBuf, String> {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("cmis-webdriver-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join("profile"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Spawns chromedriver on a free port and waits until `/status` says it is ready.
async fn spawn_driver(
    driver: &Path,
    dir: &Path,
    client: &reqwest::Client,
) -> Result<(Child, u16), String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))?
        .port();
    let log = dir.join("chromedriver.log");
    let out = std::fs::File::create(&log).map_err(|e| format!("cannot create the log: {e}"))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot share the log: {e}"))?;
    let mut child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", driver.display()))?;
    let status = format!("http://127.0.0.1:{port}/status");
    let deadline = Instant::now() + DRIVER_READY;
    loop {
        if let Ok(Some(exit)) = child.try_wait() {
            return Err(format!(
                "chromedriver exited ({exit}) on port {port}: {}",
                tail(&log)
            ));
        }
        if let Ok(value) = send(client, Method::GET, &status, None).await
            && value["ready"] == true
            // Still running: the answer was ours, not another server's on a port taken
            // again (chromedriver exits within milliseconds when it cannot bind).
            && matches!(child.try_wait(), Ok(None))
        {
            return Ok((child, port));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "chromedriver not ready within {DRIVER_READY:?}: {}",
                tail(&log)
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Creates the session; on failure kills chromedriver and removes `dir`.
async fn open_session(
    client: reqwest::Client,
    mut driver: Child,
    port: u16,
    dir: PathBuf,
    chromium: &Path,
) -> Result<Chrome, String> {
    let (w, h) = DESKTOP;
    let caps = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": { "implicit": 0, "pageLoad": 30_000, "script": 30_000 },
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                format!("--window-size={w},{h}"),
                format!("--user-data-dir={}", dir.join("profile").display()),
            ],
        },
    }}});
    let base = format!("http://127.0.0.1:{port}/session");
    let created = send(&client, Method::POST, &base, Some(caps)).await;
    let id = match created.map(|v| v["sessionId"].as_str().map(str::to_owned)) {
        Ok(Some(id)) => id,
        failed => {
            let why = failed
                .err()
                .unwrap_or_else(|| "no sessionId in the answer".to_owned());
            let log = tail(&dir.join("chromedriver.log"));
            let _ = driver.kill();
            let _ = driver.wait();
            let _ = std::fs::remove_dir_all(&dir);
            return Err(format!(
                "Chromium did not start ({}): {why}; {log}",
                chromium.display()
            ));
        }
    };
    let session = Arc::new(Session {
        client,
        url: format!("{base}/{id}"),
        id,
    });
    let chrome = Chrome {
        session,
        driver,
        port,
        dir,
        deleted: false,
    };
    // `--window-size` sizes the window, frame included; the viewport is what tests mean.
    chrome.set_window_size(w, h).await?;
    Ok(chrome)
}

/// One WebDriver request; the answer's `value`, or an error naming the command.
async fn send(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    // `POST element`, not the whole URL with the session's id.
    let command = url
        .split_once("/session/")
        .map(|(_, p)| p.split_once('/').map_or("session", |(_, c)| c));
    let what = format!("{method} {}", command.unwrap_or(url));
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| format!("{what}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("{what}: {e}"))?;
    let mut answer: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{what}: HTTP {status}, not JSON ({e}): {}", shorten(&text)))?;
    let value = answer
        .get_mut("value")
        .map(Value::take)
        .unwrap_or(Value::Null);
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        // chromedriver's messages mostly start with the error's name already.
        let message = value["message"].as_str().unwrap_or_default();
        let message = message
            .strip_prefix(error)
            .map_or(message, |m| m.trim_start_matches([':', ' ']));
        return Err(format!("{what}: {error}: {}", shorten(message)));
    }
    if !status.is_success() {
        return Err(format!("{what}: HTTP {status}: {}", shorten(&text)));
    }
    Ok(value)
}

/// DELETE without an async runtime, for `Drop`: best effort, bounded by timeouts.
fn blocking_delete(port: u16, path: &str) {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return;
    }
    // The answer comes once Chromium has closed; reading it waits for that.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
        if complete(&answer) {
            break;
        }
    }
}

/// Whether `answer` holds a whole HTTP response with a `Content-Length`.
fn complete(answer: &[u8]) -> bool {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    length.is_some_and(|n| answer.len() >= end + 4 + n)
}

fn string(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(format!("webdriver: expected a string, got {other}")),
    }
}

fn by_css(css: &str) -> Value {
    json!({ "using": "css selector", "value": css })
}

/// The last lines of chromedriver's log, for an error message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(8).collect();
    let lines: Vec<&str> = lines.into_iter().rev().collect();
    format!("chromedriver's log ends: {}", lines.join(" | "))
}

/// At most 500 characters, so a stack trace or a page does not flood the test's output.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(500) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_owned(),
    }
}
