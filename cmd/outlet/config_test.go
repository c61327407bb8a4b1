package main

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestConfigurationDocsAreCurrent(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	writeConfigDocs(&b)
	have, err := os.ReadFile("../../docs/configuration.md")
	if err != nil || !bytes.Equal(have, b.Bytes()) {
		t.Errorf("docs/configuration.md is out of date with the flags; run `make docs`")
	}
}

func TestEnvironmentTwinsApplyUnlessTheFlagIsGiven(t *testing.T) {
	t.Setenv("OUTLET_WORKERS", "7")
	t.Setenv("OUTLET_ATTEMPT_TIMEOUT", "3s")
	t.Setenv("OUTLET_RETRY_SCHEDULE", "1s,2s")
	var c serveConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.flags(fs)
	if err := fs.Parse([]string{"--workers", "9"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs); err != nil {
		t.Fatal(err)
	}
	if c.Workers != 9 {
		t.Errorf("workers %d; the flag (9) must win over OUTLET_WORKERS", c.Workers)
	}
	if c.AttemptTimeout != 3*time.Second || c.RetrySchedule.String() != "1s,2s" {
		t.Errorf("attempt timeout %s, schedule %s; want the environment's", c.AttemptTimeout, c.RetrySchedule.String())
	}
}

func TestABadEnvironmentValueNamesTheVariable(t *testing.T) {
	t.Setenv("OUTLET_ATTEMPT_TIMEOUT", "soon")
	var c serveConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.flags(fs)
	fs.Parse(nil)
	err := applyEnv(fs)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("OUTLET_ATTEMPT_TIMEOUT")) {
		t.Errorf("error %v; want one naming OUTLET_ATTEMPT_TIMEOUT", err)
	}
}

func TestByteSizes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"262144": 262144, "256KiB": 262144, "1MiB": 1 << 20, "2MB": 2000000, "10 KiB": 10240, "5B": 5} {
		var b byteSize
		if err := b.Set(in); err != nil || int(b) != want {
			t.Errorf("%q: %d %v; want %d", in, b, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1", "1GiB?"} {
		var b byteSize
		if b.Set(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
