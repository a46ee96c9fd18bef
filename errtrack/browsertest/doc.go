// Package browsertest drives errtrack's /dev/errors page in a real headless
// Chromium with chromedp. It is a module of its own so that chromedp never
// enters otelkit's main go.mod.
//
// Run it with
//
//	cd errtrack/browsertest && go test -count=1 ./...
//
// It needs Debian's chromium at /usr/bin/chromium (or the path in
// OTELKIT_CHROMIUM): with CI=true a missing browser fails the test, otherwise
// the test is skipped. OTELKIT_SCREENSHOT=path also writes a screenshot of the
// page to path (docs/dev-errors.png is made this way).
package browsertest
