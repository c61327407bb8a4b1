package dispatch

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/outlethq/outlet"
)

func TestSignatureMatchesTheStandardWebhooksReference(t *testing.T) {
	t.Parallel()
	// The example from the Standard Webhooks specification.
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	got, err := Sign([]string{secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s; want %s", got, want)
	}
}

func TestEverySecretSignsAndTheLibraryAcceptsEach(t *testing.T) {
	t.Parallel()
	a, b := outlet.NewEndpointSecret(), outlet.NewEndpointSecret()
	body := []byte(`{"type":"x","timestamp":"2026-01-01T00:00:00.000Z","data":{}}`)
	now := time.Now().Unix()
	sig, err := Sign([]string{a, b}, "evt_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("%d signatures for two secrets: %s", n, sig)
	}
	h := http.Header{}
	h.Set("webhook-id", "evt_1")
	h.Set("webhook-timestamp", strconv.FormatInt(now, 10))
	h.Set("webhook-signature", sig)
	for _, s := range []string{a, b} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("library rejects a signature by one of the secrets: %v", err)
		}
		if !Verify(s, "evt_1", now, body, sig) {
			t.Errorf("Verify rejects a signature by one of the secrets")
		}
	}
	if Verify(outlet.NewEndpointSecret(), "evt_1", now, body, sig) {
		t.Errorf("a stranger's secret verifies")
	}
	if Verify(a, "evt_1", now, append(body, ' '), sig) {
		t.Errorf("a changed body verifies")
	}
}

func TestSignRefusesMalformedSecrets(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "whsec_", "whsec_!!!", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2hvcnQ="} {
		if _, err := Sign([]string{s}, "id", 1, nil); err == nil {
			t.Errorf("secret %q accepted", s)
		}
	}
}

// FuzzVerify feeds arbitrary signature headers and messages to the verifier:
// it must never panic, and must accept only what Sign made with the secret.
func FuzzVerify(f *testing.F) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	good, _ := Sign([]string{secret}, "msg", 1614265330, []byte("body"))
	f.Add("msg", int64(1614265330), []byte("body"), good)
	f.Add("msg", int64(0), []byte(""), "v1,")
	f.Add("", int64(-1), []byte("{}"), "v1,a v2,b v1,,,")
	f.Add("msg", int64(1614265330), []byte("body"), strings.Repeat("v1,x ", 100))
	f.Fuzz(func(t *testing.T, id string, ts int64, body []byte, header string) {
		ok := Verify(secret, id, ts, body, header)
		want, _ := Sign([]string{secret}, id, ts, body)
		if ok && !strings.Contains(" "+header+" ", " "+want+" ") {
			t.Errorf("Verify accepted %q, which doesn't hold the right signature %q", header, want)
		}
		if !Verify(secret, id, ts, body, want) {
			t.Errorf("Verify rejects Sign's own signature")
		}
	})
}

// FuzzDecodeEndpointSecret: any string is either a valid secret that signs,
// or refused, never a panic.
func FuzzDecodeEndpointSecret(f *testing.F) {
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.Add("whsec_")
	f.Add("whsec_====")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := outlet.DecodeEndpointSecret(s)
		if err != nil {
			return
		}
		if len(key) < 24 {
			t.Errorf("accepted a %d-byte key", len(key))
		}
		if _, err := Sign([]string{s}, "id", 1, nil); err != nil {
			t.Errorf("a secret that decodes can't sign: %v", err)
		}
	})
}
