// The public API of @lookalike/sdk.
export { GraphQLClient, type GraphQLResponse, type UploadFile } from './graphql-client.js';
