package repocheck

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadmeStatesTestScriptSettings: every variable scripts/test.sh reads
// (SKIP_E2E, SKIP_BROWSER, ...) is explained in the README.
func TestReadmeStatesTestScriptSettings(t *testing.T) {
	script, readme := readFile(t, "scripts/test.sh"), readFile(t, "README.md")
	var vars []string
	for _, m := range regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*):-\}`).FindAllStringSubmatch(script, -1) {
		if !slices.Contains(vars, m[1]) {
			vars = append(vars, m[1])
		}
	}
	if len(vars) == 0 {
		t.Fatal("scripts/test.sh reads no variables: the pattern is out of date")
	}
	for _, v := range vars {
		if !strings.Contains(readme, v+"=1") {
			t.Errorf("scripts/test.sh reads %s; README.md does not show %s=1", v, v)
		}
	}
	for _, s := range []string{"apt-get", "sudo", "minutes"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README.md does not state the test script's prerequisite %q", s)
		}
	}
}

// TestGrafanaAccessMatchesCompose: the README and docker-compose.yml say
// the same about signing in to Grafana.
func TestGrafanaAccessMatchesCompose(t *testing.T) {
	compose, readme := readFile(t, "docker-compose.yml"), readFile(t, "README.md")
	anonymousAdmin := regexp.MustCompile(`GF_AUTH_ANONYMOUS_ENABLED:\s*"?true"?`).MatchString(compose) &&
		regexp.MustCompile(`GF_AUTH_ANONYMOUS_ORG_ROLE:\s*"?Admin"?`).MatchString(compose)
	if !anonymousAdmin {
		t.Skip("docker-compose.yml no longer gives anonymous users the Admin role: update README.md and this test")
	}
	if strings.Contains(compose, "admin/admin") || strings.Contains(readme, "admin/admin") {
		t.Error("admin/admin is mentioned although Grafana needs no login")
	}
	if !strings.Contains(readme, "anonymous users get the Admin role") {
		t.Error("README.md does not say that Grafana needs no login (anonymous Admin)")
	}
}
