import { AddProductImageDocument, UploadProductImageDocument } from '@lookalike/sdk';
import { NextResponse } from 'next/server';
import { ApiError, namedFile } from '@/server/graphql';
import { assertSameOrigin, errorResponse, fileField } from '@/server/route-helpers';
import { sessionWithScope } from '@/server/session';
import { textField } from '@/lib/form-data';

/** The uploader's modes by externalId, as the API's ImageUploadMode. */
const UPLOAD_MODES = { attach: 'ATTACH', create: 'CREATE', ensure: 'ENSURE' } as const;
type ExternalIdMode = keyof typeof UPLOAD_MODES;

const isExternalIdMode = (mode: string): mode is ExternalIdMode =>
  Object.hasOwn(UPLOAD_MODES, mode);

/**
 * One uploaded image: to a product by id, or to the product with an externalId, created when the
 * mode allows. Either is ONE API mutation: the API writes the product, the image and its vectors
 * in one transaction, so a refused file leaves the catalog as it was, and two files naming the
 * same new product at once end as one product with both images.
 *
 * mode: "product" (productId), "attach" (externalId must exist), "create" (externalId must
 * not exist), "ensure" (attach, or create when missing).
 */
export async function POST(req: Request): Promise<NextResponse> {
  try {
    assertSameOrigin(req);
    const { api } = await sessionWithScope('CATALOG_WRITE', 'uploads need');
    const form = await req.formData();
    const file = fileField(form, 'file');
    const mode = textField(form, 'mode');
    const externalId = textField(form, 'externalId');
    const image = namedFile(file, 'upload');

    if (mode === 'product') {
      const productId = textField(form, 'productId');
      if (!productId) throw new ApiError('No product to add the image to', 'BAD_USER_INPUT', 400);
      const { addProductImage } = await api.request(AddProductImageDocument, { productId, image });
      return NextResponse.json({ productId, externalId, created: false, image: addProductImage });
    }

    if (!isExternalIdMode(mode))
      throw new ApiError(`Unknown upload mode "${mode}"`, 'BAD_USER_INPUT', 400);
    if (!externalId)
      throw new ApiError('No externalId could be read from this file name', 'BAD_USER_INPUT', 400);
    const title = textField(form, 'title') || externalId;
    const category = textField(form, 'category');
    try {
      const { uploadProductImage: uploaded } = await api.request(UploadProductImageDocument, {
        image,
        externalId,
        mode: UPLOAD_MODES[mode],
        title,
        ...(category ? { category } : {}),
      });
      return NextResponse.json({
        productId: uploaded.product.id,
        externalId: uploaded.product.externalId,
        created: uploaded.createdProduct,
        image: uploaded.image,
      });
    } catch (error) {
      throw withUploaderHint(error, mode, externalId);
    }
  } catch (error) {
    return errorResponse(error);
  }
}

/** The API's refusals of a mode, worded with the uploader's choice that would have worked. */
function withUploaderHint(error: unknown, mode: ExternalIdMode, externalId: string): unknown {
  if (!(error instanceof ApiError)) return error;
  if (mode === 'create' && error.code === 'CONFLICT')
    return new ApiError(
      `A product with externalId "${externalId}" already exists; choose "Add to existing products" to add images to it.`,
      error.code,
      error.status,
      error.field,
    );
  if (mode === 'attach' && error.code === 'NOT_FOUND')
    return new ApiError(
      `No product has externalId "${externalId}".`,
      error.code,
      error.status,
      error.field,
    );
  return error;
}
