// The HMI's build: root web/, output web/dist with hashed assets under
// dist/assets/, base "/" (the gateway serves dist at / and falls back to
// index.html for the app's routes). The dev server proxies the API, the
// live channel and the OpenAPI document to a gateway on 127.0.0.1:8123
// (PLCGW_URL overrides it).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const gateway = process.env.PLCGW_URL || 'http://127.0.0.1:8123';

export default defineConfig({
  root,
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: gateway, changeOrigin: false },
      '/openapi.json': { target: gateway },
      '/socket.io': { target: gateway, ws: true },
    },
  },
  preview: {
    host: '127.0.0.1',
    port: 4173,
    proxy: {
      '/api': { target: gateway },
      '/openapi.json': { target: gateway },
      '/socket.io': { target: gateway, ws: true },
    },
  },
});
