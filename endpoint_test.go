package outlet

import (
	"strings"
	"testing"
	"time"
)

func TestEndpointValidation(t *testing.T) {
	t.Parallel()
	valid := func() *Endpoint {
		return &Endpoint{URL: "https://example.com/hook", EventTypes: []string{"a.b"}, Headers: map[string]string{"X-Team": "billing"}}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("a valid endpoint is refused: %v", err)
	}
	cases := map[string]func(*Endpoint){
		"no url":                     func(e *Endpoint) { e.URL = "" },
		"relative url":               func(e *Endpoint) { e.URL = "/hook" },
		"ftp url":                    func(e *Endpoint) { e.URL = "ftp://example.com" },
		"url with fragment":          func(e *Endpoint) { e.URL = "https://example.com/#x" },
		"bad filter":                 func(e *Endpoint) { e.EventTypes = []string{"a b"} },
		"reserved header":            func(e *Endpoint) { e.Headers = map[string]string{"webhook-signature": "x"} },
		"content-type header":        func(e *Endpoint) { e.Headers = map[string]string{"content-type": "text/plain"} },
		"header name with a space":   func(e *Endpoint) { e.Headers = map[string]string{"X Team": "x"} },
		"header value with newline":  func(e *Endpoint) { e.Headers = map[string]string{"X-A": "a\r\nX-Evil: 1"} },
		"too long description":       func(e *Endpoint) { e.Description = strings.Repeat("x", 1001) },
		"too many event types":       func(e *Endpoint) { e.EventTypes = make([]string, 101) },
		"metadata key too long":      func(e *Endpoint) { e.Metadata = map[string]string{strings.Repeat("k", 101): "v"} },
		"url longer than 2048 bytes": func(e *Endpoint) { e.URL = "https://example.com/" + strings.Repeat("a", 2048) },
	}
	for name, mutate := range cases {
		ep := valid()
		mutate(ep)
		if err := ep.Validate(); err == nil || ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v; want EINVALID", name, err)
		}
	}
}

func TestSecretRotationKeepsTheOldSecretDuringTheOverlap(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	ep := &Endpoint{Secret: "old"}
	ep.Rotate("new", now.Add(time.Hour), now)
	if got := ep.ActiveSecrets(now.Add(59 * time.Minute)); len(got) != 2 || got[0] != "new" || got[1] != "old" {
		t.Errorf("during the overlap: %v; want new then old", got)
	}
	if got := ep.ActiveSecrets(now.Add(time.Hour)); len(got) != 1 || got[0] != "new" {
		t.Errorf("after the overlap: %v; want only new", got)
	}
	ep.Rotate("newer", now, now)
	if got := ep.ActiveSecrets(now); len(got) != 1 || got[0] != "newer" {
		t.Errorf("after a rotation without overlap: %v; want only newer", got)
	}
}

func TestEnablingAnEndpointForgetsItsFailures(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	ep := &Endpoint{}
	yes, no := true, false
	ep.Apply(EndpointUpdate{Disabled: &yes}, now)
	if !ep.Disabled || ep.DisabledReason != "manual" || ep.DisabledAt == nil {
		t.Errorf("disabled endpoint %+v; want reason manual and a time", ep)
	}
	ep.FailingSince = &now
	ep.Apply(EndpointUpdate{Disabled: &no}, now)
	if ep.Disabled || ep.DisabledReason != "" || ep.DisabledAt != nil || ep.FailingSince != nil {
		t.Errorf("re-enabled endpoint %+v; want a clean record", ep)
	}
}

func TestParseEndpointURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		ok   bool
		says string // in the message of a refusal
	}{
		{"https without a port", "https://example.com/hook", true, ""},
		{"http with a port", "http://example.com:8080/hook", true, ""},
		{"the lowest port", "http://example.com:1/", true, ""},
		{"the highest port", "http://example.com:65535/", true, ""},
		{"an empty port takes the scheme's", "http://example.com:/", true, ""},
		{"an IPv6 host with a port", "http://[2001:db8::1]:443/", true, ""},
		{"a port past 65535 is refused", "http://example.com:99999/", false, "1 to 65535"},
		{"port 65536 is refused", "http://example.com:65536/", false, "1 to 65535"},
		{"port 0 is refused", "http://example.com:0/", false, "1 to 65535"},
		{"port 00000 is refused", "http://example.com:00000/", false, "1 to 65535"},
		{"a port past any integer is refused", "http://example.com:99999999999999999999/", false, "1 to 65535"},
		{"a port that isn't a number is refused", "http://example.com:http/", false, "port"},
		{"a negative port is refused", "http://example.com:-1/", false, "port"},
		{"an IPv6 host with a port past 65535 is refused", "http://[2001:db8::1]:70000/", false, "1 to 65535"},
		{"a scheme other than http is refused", "ftp://example.com/", false, "http://"},
		{"a url without a host is refused", "http:///hook", false, "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseEndpointURL(tt.url)
			if tt.ok {
				if err != nil {
					t.Errorf("ParseEndpointURL(%q) = %v; want it accepted", tt.url, err)
				}
				return
			}
			if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tt.says) {
				t.Errorf("ParseEndpointURL(%q) = %v; want EINVALID saying %q", tt.url, err, tt.says)
			}
		})
	}
}
