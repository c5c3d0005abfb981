// Module hooks for the lazy-loading test: report every resolution of the openai package.
let port;
export function initialize(data) {
  port = data.port;
}
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.includes("/node_modules/openai/")) port.postMessage(result.url);
  return result;
}
