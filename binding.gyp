# node-gyp builds this on `npm install`/`npm ci` (a root binding.gyp with no
# install script gets `node-gyp rebuild`), against Node's local headers.
{
  "targets": [
    {
      # The I/O addon: TUN devices and batched UDP links (src/io/native), and
      # the identifier's HMAC-SHA256 on the OpenSSL that Node links (hmac.c).
      "target_name": "anyguard_io",
      "sources": ["src/io/native/anyguard_io.c", "src/io/native/hmac.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
