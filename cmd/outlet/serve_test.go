package main

import (
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/outlethq/outlet/internal/app"
)

// The flags (and so docs/configuration.md, generated from them) must state
// the defaults the server is built with everywhere else: app.Defaults().
func TestServeFlagDefaultsAreTheAppDefaults(t *testing.T) {
	t.Parallel()
	var c serveConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.flags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	want := app.Defaults()
	got := reflect.ValueOf(c.Config)
	for i := range got.NumField() {
		name := reflect.TypeFor[app.Config]().Field(i).Name
		if g, w := got.Field(i).Interface(), reflect.ValueOf(want).Field(i).Interface(); !reflect.DeepEqual(g, w) {
			t.Errorf("with no flags given, %s is %v; app.Defaults() says %v", name, g, w)
		}
	}
}

// Every setting of the server is a flag: a field of app.Config that no
// flag sets would keep its default whatever the operator says.
func TestEverySettingOfTheAppIsAFlag(t *testing.T) {
	t.Parallel()
	notFlags := map[string]bool{
		"AdminKey": true, "SecretKey": true, // the environment's alone: a flag's value is visible to every user of the machine
		"Node":   true, // made unique per process
		"Logger": true, "TuneAPI": true,
		"TracerProvider": true, // the standard OTEL_* variables configure tracing
	}
	var c serveConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.flags(fs)
	// Give every flag a value other than its default, then see which fields
	// are still at theirs.
	fs.VisitAll(func(f *pflag.Flag) {
		var v string
		switch f.Value.Type() {
		case "bool":
			v = strconv.FormatBool(f.DefValue != "true")
		case "int", "int64", "float64":
			v = "7"
		case "duration":
			v = "7m"
		case "durations":
			v = "7s,7m"
		case "size":
			v = "7MiB"
		case "stringSlice":
			v = "seven.example.com"
		case "url":
			v = "postgres://seven.example.com/outlet"
		default:
			v = "seven"
		}
		if err := fs.Set(f.Name, v); err != nil {
			t.Fatalf("--%s %s: %v", f.Name, v, err)
		}
	})
	def := reflect.ValueOf(app.Defaults())
	got := reflect.ValueOf(c.Config)
	for i := range got.NumField() {
		name := reflect.TypeFor[app.Config]().Field(i).Name
		if notFlags[name] {
			continue
		}
		if reflect.DeepEqual(got.Field(i).Interface(), def.Field(i).Interface()) {
			t.Errorf("app.Config.%s is set by no flag of outlet serve", name)
		}
	}
}

func TestPprofListensOnLoopbackUnlessTold(t *testing.T) {
	t.Parallel()
	ln, err := listenPprof(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); host != "127.0.0.1" {
		t.Errorf("--pprof-addr :0 listens on %s; want 127.0.0.1", ln.Addr())
	}
	go servePprof(slog.New(slog.DiscardHandler), ln)
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /debug/pprof/cmdline: %d", resp.StatusCode)
	}
	if _, err := listenPprof("6060"); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("--pprof-addr 6060: %v; want an error saying to give host:port", err)
	}
}
