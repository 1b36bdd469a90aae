"""Media over WebRTC (aiortc), shared by the server's media hub and the console: a media
thread with its own event loop, peer connections without external ICE servers, encoded-packet
tracks for forwarding, and the console's camera stream."""
