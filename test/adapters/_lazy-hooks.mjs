// Module hooks for the adapter isolation test: report every resolution of an adapter library.
let port;
export function initialize(data) {
  port = data.port;
}
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (/\/node_modules\/@(openai\/agents|langchain)\//.test(result.url)) port.postMessage(result.url);
  return result;
}
