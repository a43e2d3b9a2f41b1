// Package web is Gantry's web UI: the built assets under dist/, embedded in the
// binary, and the handler that serves them. The sources are under ui/ (TypeScript,
// Preact, CodeMirror 6, built with Vite); `make ui` rebuilds dist/ from them with npm,
// and dist/ is committed, so building Gantry needs Go alone.
//
// The UI (ui/src): api.ts is the client of the REST API v1; live.ts follows the event
// stream (GET /v1/events, with EventSource) and polls every 2 s when there is none;
// router.tsx routes on the History API (/, /apps/APP[/entities/ENTITY][?tab=..],
// /deploy, /catalog, /locations); pages/ and components/ hold the views, the app
// inspector's entity tree, tabs and task tree among them; editor.ts sets CodeMirror up
// for blueprints.
//
// web_test.go tests the handler, and that dist/ was built from the sources as they are;
// browser_test.go drives the UI in headless Chromium against a real server.
//
// It imports nothing of ours; the server mounts Handler at / (server -> web).
package web
