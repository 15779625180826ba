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
  products(first: $first) { edges { node { id externalId title images { id } } } }
}`;

export const PRODUCT = `query Product($id: ID!) { product(id: $id) { ${PRODUCT_FIELDS} } }`;

export const UPDATE_PRODUCT = `mutation UpdateProduct($id: ID!, $input: UpdateProductInput!) {
  updateProduct(id: $id, input: $input) { ${PRODUCT_FIELDS} }
}`;

export const DELETE_PRODUCT = `mutation DeleteProduct($id: ID!) { deleteProduct(id: $id) }`;

export const ADD_IMAGE = `mutation AddProductImage($productId: ID!, $image: Upload!) {
  addProductImage(productId: $productId, image: $image) { id sha256 width height status }
}`;

/**
 * An image for the product with this externalId, creating the product when the mode allows: one
 * transaction in the API, so a refused file leaves nothing behind and two files naming the same
 * new product end as one product.
 */
export const UPLOAD_IMAGE = `mutation UploadProductImage($image: Upload!, $externalId: String!, $mode: ImageUploadMode!, $title: String, $category: String) {
  uploadProductImage(image: $image, externalId: $externalId, mode: $mode, title: $title, category: $category) {
    createdProduct
    product { id externalId }
    image { id sha256 width height status }
  }
}`;

export const REMOVE_IMAGE = `mutation RemoveProductImage($id: ID!) { removeProductImage(id: $id) }`;

const SIMILAR_FIELDS = `model tookMs
    hits { score distance verdict product { id externalId title category } image { sha256 } }`;

const BOX = `x y width height`;

/**
 * similarProducts under both metrics for one photo: one request, one upload, two aliased fields
 * (the API detects and embeds the photo once per request and shares it). Detection (default
 * on) picks the main product unless a region is given; the first field says what was searched.
 * With $withObjects, a third, small search lists every detected product with its top
 * $objectHits hits (its objects cost `first` hits per product, so they are not asked of the
 * 100-hit fields).
 */
export const SIMILAR_BOTH = `query SimilarBoth($image: Upload!, $first: Int, $cosine: Float, $euclidean: Float, $region: ImageRegion, $detect: Boolean, $withObjects: Boolean!, $objectHits: Int) {
  cosine: similarProducts(image: $image, first: $first, metric: COSINE, threshold: $cosine, region: $region, detect: $detect) {
    ${SIMILAR_FIELDS}
    searchedBox { ${BOX} }
    searchedDetection { box { ${BOX} } score category }
  }
  euclidean: similarProducts(image: $image, first: $first, metric: EUCLIDEAN, threshold: $euclidean, region: $region, detect: $detect) {
    ${SIMILAR_FIELDS}
  }
  detected: similarProducts(image: $image, first: $objectHits, metric: COSINE, threshold: $cosine, region: $region, detect: $detect) @include(if: $withObjects) {
    objects {
      box { ${BOX} } score category
      hits { score distance verdict product { id externalId title category } image { sha256 } }
    }
  }
}`;

/**
 * "More like this" under both metrics: the products' stored vectors averaged (no upload, no
 * inference); the products themselves are left out of the hits.
 */
export const MORE_LIKE_BOTH = `query MoreLikeBoth($productIds: [ID!]!, $first: Int, $cosine: Float, $euclidean: Float) {
  cosine: similarProducts(productIds: $productIds, first: $first, metric: COSINE, threshold: $cosine) {
    ${SIMILAR_FIELDS}
  }
  euclidean: similarProducts(productIds: $productIds, first: $first, metric: EUCLIDEAN, threshold: $euclidean) {
    ${SIMILAR_FIELDS}
  }
}`;

/**
 * A stored image as the query under both metrics: its stored vector, nothing downloaded,
 * uploaded or embedded; the image's own product comes back first (EXACT).
 */
export const STORED_IMAGE_BOTH = `query StoredImageBoth($imageId: ID!, $first: Int, $cosine: Float, $euclidean: Float) {
  cosine: similarProducts(imageId: $imageId, first: $first, metric: COSINE, threshold: $cosine) {
    ${SIMILAR_FIELDS}
  }
  euclidean: similarProducts(imageId: $imageId, first: $first, metric: EUCLIDEAN, threshold: $euclidean) {
    ${SIMILAR_FIELDS}
  }
}`;

const SETTINGS_FIELDS = `model metric searchThreshold matchThreshold topK usingModelDefaults updatedAt`;

/** The settings of a model; without one, of the serving model. */
export const SETTINGS = `query Settings($model: String) {
  searchSettings(model: $model) { ${SETTINGS_FIELDS} }
}`;

export const UPDATE_SETTINGS = `mutation UpdateSettings($input: SearchSettingsInput!) {
  updateSearchSettings(input: $input) { ${SETTINGS_FIELDS} }
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

const MODEL_FIELDS = `key dims status loaded executionProvider activatedAt
  coverage { total embedded failed fraction }
  reindex { running startedAt finishedAt done remaining rate etaSeconds }
  defaults { metric searchThreshold matchThreshold }`;

/** The merchant's models, serving first, then the ones the API loads that it has not used. */
export const EMBEDDING_MODELS = `query EmbeddingModels { embeddingModels { ${MODEL_FIELDS} } }`;

export const START_REINDEX = `mutation StartReindex($model: String!) {
  startReindex(model: $model) { ${MODEL_FIELDS} }
}`;

/** Refused (CONFLICT) while the model's coverage is incomplete, unless force. */
export const ACTIVATE_MODEL = `mutation ActivateModel($model: String!, $force: Boolean!) {
  activateModel(model: $model, force: $force) { previous coverage forced model { ${MODEL_FIELDS} } }
}`;

export const RETIRE_MODEL = `mutation RetireModel($model: String!) {
  retireModel(model: $model) { ${MODEL_FIELDS} }
}`;

export const API_KEYS = `query ApiKeys { apiKeys { id name prefix scopes createdAt lastUsedAt revokedAt } }`;

export const CREATE_KEY = `mutation CreateApiKey($name: String!, $scopes: [ApiScope!]!) {
  createApiKey(name: $name, scopes: $scopes) { secret apiKey { id name prefix scopes createdAt lastUsedAt revokedAt } }
}`;

export const REVOKE_KEY = `mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) }`;
