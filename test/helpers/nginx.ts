/** nginx running the shipped server block: one implementation, shared with `npm run bench:cluster`. */
export { NGINX_BINARY, startNginx, type Nginx } from '../../bench/lib/nginx.js';
