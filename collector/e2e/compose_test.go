package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"
)

// TestComposeFile validates docker-compose.yml and what it mounts without a
// Docker engine: compose-go loads and normalises the file the way
// `docker compose` does.
func TestComposeFile(t *testing.T) {
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
	)
	require.NoError(t, err)
	project, err := opts.LoadProject(t.Context())
	require.NoError(t, err)

	require.ElementsMatch(t, []string{"quickstart", "collector", "lgtm"}, project.ServiceNames())
	version := collectorVersion(t, root)

	t.Run("images pinned", func(t *testing.T) {
		for name, svc := range project.Services {
			assertPinned(t, name, svc.Image)
		}
		assert.Equal(t, "otel/opentelemetry-collector-contrib:"+strings.TrimPrefix(version, "v"),
			project.Services["collector"].Image, "the contrib image runs the builder manifest's version")
		assert.True(t, strings.HasPrefix(project.Services["lgtm"].Image, "grafana/otel-lgtm:"))
	})

	t.Run("quickstart build", func(t *testing.T) {
		b := project.Services["quickstart"].Build
		require.NotNil(t, b)
		assert.Equal(t, root, b.Context)
		dockerfile := filepath.Join(b.Context, b.Dockerfile)
		require.FileExists(t, dockerfile)
		data, err := os.ReadFile(dockerfile)
		require.NoError(t, err)
		from := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(string(data), -1)
		require.Len(t, from, 2, "a multi-stage build")
		for _, m := range from {
			assertPinned(t, "Dockerfile", m[1])
		}
		assert.Contains(t, string(data), "./examples/quickstart")
	})

	t.Run("ports", func(t *testing.T) {
		want := map[string][]uint32{
			"quickstart": {8080},
			"collector":  {4317, 4318, 13133},
			"lgtm":       {3000},
		}
		for name, targets := range want {
			var got []uint32
			for _, p := range project.Services[name].Ports {
				assert.NotEmpty(t, p.Published, "%s: port %d is published", name, p.Target)
				got = append(got, p.Target)
			}
			assert.ElementsMatch(t, targets, got, name)
		}
	})

	t.Run("mounted files exist", func(t *testing.T) {
		for name, svc := range project.Services {
			for _, v := range svc.Volumes {
				if v.Type != types.VolumeTypeBind {
					continue
				}
				_, err := os.Stat(v.Source)
				assert.NoError(t, err, "%s mounts %s", name, v.Source)
				assert.True(t, v.ReadOnly, "%s mounts %s read-only", name, v.Source)
			}
		}
	})

	t.Run("collector runs collector/config.yaml", func(t *testing.T) {
		svc := project.Services["collector"]
		target := bindTarget(t, svc, filepath.Join(root, "collector", "config.yaml"))
		assert.Contains(t, svc.Command, "--config="+target)

		// Every OTELKIT_* variable the service sets is one the config reads.
		config, err := os.ReadFile(filepath.Join(root, "collector", "config.yaml"))
		require.NoError(t, err)
		for k := range svc.Environment {
			assert.Contains(t, string(config), "${env:"+k+":-", "collector environment %s", k)
		}
		assert.Equal(t, "http://collector:4318", *project.Services["quickstart"].Environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
	})

	t.Run("dashboards", func(t *testing.T) {
		lgtm := project.Services["lgtm"]
		uids := provisionedDatasources(t, root, lgtm)
		require.ElementsMatch(t, []string{"prometheus", "loki", "tempo"}, uids)

		// The dashboard provider reads the folder grafana/dashboards is mounted at.
		var prov struct {
			Providers []struct {
				Options struct {
					Path string `yaml:"path"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		provFile := filepath.Join(root, "grafana", "provisioning", "dashboards", "otelkit.yaml")
		readYAML(t, provFile, &prov)
		bindTarget(t, lgtm, provFile)
		require.Len(t, prov.Providers, 1)
		assert.Equal(t, bindTarget(t, lgtm, filepath.Join(root, "grafana", "dashboards")), prov.Providers[0].Options.Path)

		files, err := filepath.Glob(filepath.Join(root, "grafana", "dashboards", "*.json"))
		require.NoError(t, err)
		var titles []string
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			var dash map[string]any
			require.NoError(t, json.Unmarshal(data, &dash), f)
			titles = append(titles, dash["title"].(string))
			assert.NotEmpty(t, dash["uid"], f)
			refs := 0
			walkDatasources(dash, func(uid string) {
				refs++
				assert.Contains(t, uids, uid, "%s references a data source that is not provisioned", filepath.Base(f))
			})
			assert.Positive(t, refs, f)
		}
		assert.ElementsMatch(t, []string{"Audit trail", "Errors by id"}, titles)
	})
}

// assertPinned checks that image names a tag other than latest (a digest
// also pins it).
func assertPinned(t *testing.T, where, image string) {
	t.Helper()
	if strings.Contains(image, "@sha256:") {
		return
	}
	name := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(name, ":")
	if !assert.True(t, i > 0, "%s: image %q has no tag", where, image) {
		return
	}
	assert.NotEqual(t, "latest", name[i+1:], "%s: image %q", where, image)
}

// bindTarget returns where svc mounts the host path source.
func bindTarget(t *testing.T, svc types.ServiceConfig, source string) string {
	t.Helper()
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeBind && v.Source == source {
			return v.Target
		}
	}
	t.Fatalf("%s does not mount %s", svc.Name, source)
	return ""
}

// provisionedDatasources returns the uids of the data sources file the lgtm
// service mounts into Grafana's provisioning.
func provisionedDatasources(t *testing.T, root string, lgtm types.ServiceConfig) []string {
	t.Helper()
	file := filepath.Join(root, "grafana", "provisioning", "datasources", "otelkit.yaml")
	assert.Contains(t, bindTarget(t, lgtm, file), "/provisioning/datasources/")
	var ds struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
		} `yaml:"datasources"`
	}
	readYAML(t, file, &ds)
	var uids []string
	for _, d := range ds.Datasources {
		uids = append(uids, d.UID)
	}
	return uids
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, v), file)
}

// walkDatasources calls fn with the uid of every "datasource" reference in a
// dashboard, panels and targets and variables alike.
func walkDatasources(v any, fn func(uid string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "datasource" {
				if ref, ok := x.(map[string]any); ok {
					uid, _ := ref["uid"].(string)
					fn(uid)
					continue
				}
			}
			if k == "datasourceUid" {
				uid, _ := x.(string)
				fn(uid)
				continue
			}
			walkDatasources(x, fn)
		}
	case []any:
		for _, x := range v {
			walkDatasources(x, fn)
		}
	}
}

// collectorVersion returns the one version all components of the builder
// manifest are pinned to.
func collectorVersion(t *testing.T, root string) string {
	t.Helper()
	var manifest map[string]any
	readYAML(t, filepath.Join(root, "collector", "builder-config.yaml"), &manifest)
	var versions []string
	for _, kind := range []string{"receivers", "processors", "exporters", "extensions", "connectors"} {
		list, _ := manifest[kind].([]any)
		for _, c := range list {
			gomod, _ := c.(map[string]any)["gomod"].(string)
			f := strings.Fields(gomod)
			require.Len(t, f, 2, gomod)
			versions = append(versions, f[1])
		}
	}
	slices.Sort(versions)
	versions = slices.Compact(versions)
	require.Len(t, versions, 1, "core and contrib pinned to the same version")
	return versions[0]
}
