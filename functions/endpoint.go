package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/dispatch"
	"github.com/outlethq/outlet/internal/netguard"
	"github.com/outlethq/outlet/internal/tracing"
	"github.com/outlethq/outlet/sandbox"
)

// maxEndpointAnswer caps a sync endpoint's answer.
const maxEndpointAnswer = 1 << 20

func syncClient(policy netguard.Policy) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // a proxy would connect around the network policy
			DialContext:         policy.Dial(5 * time.Second),
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 50,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// callEndpoint posts the hook's input to the tenant's sync endpoint, signed
// as webhooks are, and takes its JSON answer as the output.
func (s *Service) callEndpoint(ctx context.Context, ep *outlet.HookEndpoint, input json.RawMessage, timeoutMs int) (_ json.RawMessage, ferr *sandbox.Error) {
	ctx, span := s.tracer.Start(ctx, "hook.endpoint", tracing.AsClient...)
	defer func() {
		if ferr != nil {
			if span.IsRecording() {
				span.SetAttributes(semconv.ErrorTypeKey.String(ferr.Code))
			}
			span.SetStatus(codes.Error, "")
		}
		span.End()
	}()
	id := outlet.NewID("hkc_")
	now := time.Now()
	sig, err := dispatch.Sign([]string{ep.Secret}, id, now.Unix(), input)
	if err != nil {
		return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: "can't sign the request: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(input))
	if err != nil {
		return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: "invalid endpoint URL: " + err.Error()}
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", dispatch.UserAgent)
	req.Header["webhook-id"] = []string{id}
	req.Header["webhook-timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	req.Header["webhook-signature"] = []string{sig}
	req.Header["outlet-hook"] = []string{ep.Hook}
	tracing.Inject(ctx, req.Header)
	if span.IsRecording() {
		// The host alone: a URL's path or query may hold a token.
		span.SetAttributes(tracing.Tenant.String(ep.TenantID), tracing.Hook.String(ep.Hook), semconv.HTTPRequestMethodPost,
			semconv.ServerAddress(req.URL.Hostname()))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// A refused address and a name that doesn't resolve read the same
		// (see netguard.UnreachableError); the log says which.
		var unreachable *netguard.UnreachableError
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &unreachable):
			level, msg := slog.LevelInfo, "sync endpoint call failed: the host doesn't resolve"
			if unreachable.Refused {
				level, msg = slog.LevelWarn, "sync endpoint call refused by the network policy"
			}
			s.log.Log(ctx, level, msg, "tenant", ep.TenantID, "hook", ep.Hook, "host", unreachable.Host, "detail", unreachable.Detail)
			return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: unreachable.Error()}
		case errors.Is(err, context.DeadlineExceeded):
			return nil, &sandbox.Error{Code: sandbox.CodeTimeout, Message: fmt.Sprintf("the endpoint didn't answer within the hook's %d ms", timeoutMs)}
		case errors.As(err, &dnsErr):
			// Not dnsErr.Error(): it names the resolver, an internal address.
			return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: fmt.Sprintf("calling the endpoint failed: looking up %s failed: %s", dnsErr.Name, dnsErr.Err)}
		}
		return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: "calling the endpoint failed: " + err.Error()}
	}
	defer resp.Body.Close()
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEndpointAnswer+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &sandbox.Error{Code: sandbox.CodeTimeout, Message: fmt.Sprintf("the endpoint didn't finish answering within the hook's %d ms", timeoutMs)}
		}
		return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: "reading the endpoint's answer failed: " + err.Error()}
	}
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: fmt.Sprintf("the endpoint answered %d, not 2xx", resp.StatusCode)}
	case len(body) > maxEndpointAnswer:
		return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: fmt.Sprintf("the endpoint's answer is larger than %d bytes", maxEndpointAnswer)}
	case !json.Valid(body):
		return nil, &sandbox.Error{Code: sandbox.CodeRuntimeError, Message: "the endpoint's answer is not JSON"}
	}
	var compact bytes.Buffer
	json.Compact(&compact, body)
	return compact.Bytes(), nil
}
