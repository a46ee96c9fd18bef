package e2e_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromium returns the browser to drive: OTELKIT_CHROMIUM or Debian's
// /usr/bin/chromium. Without one the test fails under CI (CI=true, set by
// scripts/test.sh, which installs it) and is skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("OTELKIT_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		msg := "chromium not found at " + path + " (apt-get install -y chromium, or set OTELKIT_CHROMIUM)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires the browser test to run")
		}
		t.Skip(msg)
	}
	return path
}

// vmuiURL is VictoriaLogs' own UI (vmui) opened on a LogsQL query.
func vmuiURL(base, query string) string {
	return base + "/select/vmui/#/?query=" + url.QueryEscape(query)
}

// checkVMUI opens vmui in headless Chromium with query, waits until every
// text of want is on the page (the audit rows rendered by the UI from
// VictoriaLogs' answer), and saves a screenshot to shot. With
// OTELKIT_UPDATE_SCREENSHOT=1 the screenshot also replaces
// docs/vmui-audits.png.
func checkVMUI(t *testing.T, root, base, query string, want []string) {
	t.Helper()
	path := chromium(t)
	parent, cancelParent := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelParent()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	u := vmuiURL(base, query)
	var text string
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(u)), u)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		missing := ""
		if err == nil {
			for _, w := range want {
				if !strings.Contains(text, w) {
					missing = w
					break
				}
			}
		}
		if err == nil && missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("vmui (%s) does not show %q after 60s (err %v); page text:\n%s", u, missing, err, tail(text, 3000))
		}
		time.Sleep(500 * time.Millisecond)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (below 100 it is JPEG)
	require.NoError(t, err)
	shot := filepath.Join(t.TempDir(), "vmui-audits.png")
	if os.Getenv("OTELKIT_UPDATE_SCREENSHOT") != "" {
		shot = filepath.Join(root, "docs", "vmui-audits.png")
	}
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("vmui shows the audits; screenshot %s (%d bytes)", shot, len(png))
}
