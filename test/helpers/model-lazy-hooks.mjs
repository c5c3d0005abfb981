// Module hooks for the lazy-loading test: report every resolution of the openai and undici packages.
let port;
export function initialize(data) {
  port = data.port;
}
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (/\/node_modules\/(openai|undici)\//.test(result.url)) port.postMessage(result.url);
  return result;
}
