import 'server-only';

// The GraphQL documents the dashboard sends, one place to review them against schema.graphql.

const PRODUCT_FIELDS = `
  id externalId title description category labels price currency url createdAt updatedAt
  images { id sha256 width height byteSize mime status createdAt }`;

export const VIEWER = `query Viewer {
  viewer {
    merchant { id name }
    apiKey { id name prefix scopes }
    model { key dims executionProvider defaults { metric searchThreshold matchThreshold } }
  }
}`;

export const PRODUCTS = `query Products($first: Int, $after: String, $filter: ProductFilter) {
  products(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { cursor node { ${PRODUCT_FIELDS} } }
  }
}`;

/** Lean, for sampling: the API caps query complexity (a full page of 100 with images is over it). */
export const PRODUCT_SAMPLE = `query ProductSample($first: Int) {
  products(first: $first) { edges { node { id externalId title images { sha256 } } } }
}`;

export const PRODUCT = `query Product($id: ID!) { product(id: $id) { ${PRODUCT_FIELDS} } }`;

export const PRODUCT_BY_EXTERNAL_ID = `query ProductByExternalId($externalId: String!) {
  productByExternalId(externalId: $externalId) { id externalId title }
}`;

export const CREATE_PRODUCT = `mutation CreateProduct($input: CreateProductInput!) {
  createProduct(input: $input) { id externalId title }
}`;

export const UPDATE_PRODUCT = `mutation UpdateProduct($id: ID!, $input: UpdateProductInput!) {
  updateProduct(id: $id, input: $input) { ${PRODUCT_FIELDS} }
}`;

export const DELETE_PRODUCT = `mutation DeleteProduct($id: ID!) { deleteProduct(id: $id) }`;

export const ADD_IMAGE = `mutation AddProductImage($productId: ID!, $image: Upload!) {
  addProductImage(productId: $productId, image: $image) { id sha256 width height status }
}`;

export const REMOVE_IMAGE = `mutation RemoveProductImage($id: ID!) { removeProductImage(id: $id) }`;

const SIMILAR_FIELDS = `model tookMs
    hits { score distance verdict product { id externalId title category } image { sha256 } }`;

/**
 * similarProducts under both metrics for one photo: one request, one upload, two aliased fields
 * (each still embeds the photo; the API reads the one upload twice).
 */
export const SIMILAR_BOTH = `query SimilarBoth($image: Upload!, $first: Int, $cosine: Float, $euclidean: Float, $region: ImageRegion) {
  cosine: similarProducts(image: $image, first: $first, metric: COSINE, threshold: $cosine, region: $region) {
    ${SIMILAR_FIELDS}
  }
  euclidean: similarProducts(image: $image, first: $first, metric: EUCLIDEAN, threshold: $euclidean, region: $region) {
    ${SIMILAR_FIELDS}
  }
}`;

export const SETTINGS = `query Settings {
  searchSettings { metric searchThreshold matchThreshold topK usingModelDefaults updatedAt }
}`;

export const UPDATE_SETTINGS = `mutation UpdateSettings($input: SearchSettingsInput!) {
  updateSearchSettings(input: $input) { metric searchThreshold matchThreshold topK usingModelDefaults updatedAt }
}`;

export const EVALUATE = `query Evaluate($metric: SimilarityMetric, $relevance: Relevance, $sampleSize: Int, $depth: Int, $targetPrecision: Float, $seed: Int) {
  evaluateCatalog(metric: $metric, relevance: $relevance, sampleSize: $sampleSize, depth: $depth, targetPrecision: $targetPrecision, seed: $seed) {
    metric model relevance depth pairs relevantPairs map mapAtR tookMs
    recallAtK { k value }
    prCurve { threshold precision recall f1 predictedPositives truePositives }
    histogram { edges relevant irrelevant }
    recommended {
      targetPrecision
      bestF1 { threshold precision recall f1 predictedPositives truePositives }
      atTargetPrecision { threshold precision recall f1 predictedPositives truePositives }
    }
    sample { queries population sampled seed mapStandardError }
  }
}`;

export const API_KEYS = `query ApiKeys { apiKeys { id name prefix scopes createdAt lastUsedAt revokedAt } }`;

export const CREATE_KEY = `mutation CreateApiKey($name: String!, $scopes: [ApiScope!]!) {
  createApiKey(name: $name, scopes: $scopes) { secret apiKey { id name prefix scopes createdAt lastUsedAt revokedAt } }
}`;

export const REVOKE_KEY = `mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) }`;
