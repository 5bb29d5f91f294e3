// @keel/httpstream: HTTP upgrades (WebSocket, SPDY/3.1) through the request pipeline and
// proxied byte for byte to another server — the one place the apiserver and the agent
// forward exec, attach and port-forward streams.
export { canTakeUpgrade, isUpgradeRequest, serveUpgradesAsRequests, takeUpgrade, type UpgradeSocket } from './server';
export { forwardUpgrade, joinStreams, negotiationHeaders, writeRawResponse, type UpgradeOutcome, type UpgradeTarget } from './proxy';
